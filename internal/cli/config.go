package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The config file is shared with the Python SDK, which reads the same
// file. It lives at $XDG_CONFIG_HOME/hogland/config.json, or
// ~/.config/hogland/config.json, and looks like:
//
//	{
//	  "current_profile": "default",
//	  "profiles": {
//	    "default": {"host": "http://127.0.0.1:8470", "token": "tok_..."},
//	    "ci": {"host": "https://hog.example.com", "token_file": "/run/secrets/hog"}
//	  }
//	}
//
// A profile has a token or a token_file (a file holding the token; a
// relative path is relative to the config file's directory, "~/" to the
// home directory). Members this version does not know are kept when the
// file is rewritten. The file is written with mode 0600, atomically.

// defaultProfile is the profile used when none is chosen.
const defaultProfile = "default"

// config is the config file.
type config struct {
	CurrentProfile string             `json:"current_profile,omitempty"`
	Profiles       map[string]profile `json:"profiles"`
	// extra holds members this version does not know.
	extra map[string]json.RawMessage
}

// profile is one hogplane and how to authenticate to it.
type profile struct {
	Host      string `json:"host"`
	Token     string `json:"token,omitempty"`
	TokenFile string `json:"token_file,omitempty"`
	extra     map[string]json.RawMessage
}

func (c config) MarshalJSON() ([]byte, error) {
	type plain config
	return withExtra(plain(c), c.extra)
}

func (c *config) UnmarshalJSON(b []byte) error {
	type plain config
	var p plain
	extra, err := splitExtra(b, &p, "current_profile", "profiles")
	if err != nil {
		return err
	}
	*c = config(p)
	c.extra = extra
	return nil
}

func (p profile) MarshalJSON() ([]byte, error) {
	type plain profile
	return withExtra(plain(p), p.extra)
}

func (p *profile) UnmarshalJSON(b []byte) error {
	type plain profile
	var q plain
	extra, err := splitExtra(b, &q, "host", "token", "token_file")
	if err != nil {
		return err
	}
	*p = profile(q)
	p.extra = extra
	return nil
}

// withExtra marshals v and adds the members of extra it does not have.
func withExtra(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if _, ok := m[k]; !ok {
			m[k] = raw
		}
	}
	return json.Marshal(m)
}

// splitExtra unmarshals b into v and returns the members not in known.
func splitExtra(b []byte, v any, known ...string) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, k := range known {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// configPath is where the config file lives.
func configPath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "hogland", "config.json"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find the config file: neither XDG_CONFIG_HOME nor HOME is set")
	}
	return filepath.Join(home, ".config", "hogland", "config.json"), nil
}

// loadConfig reads the config file; a missing file is an empty config.
func loadConfig(path string) (config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return config{Profiles: map[string]profile{}}, nil
	}
	if err != nil {
		return config{}, fmt.Errorf("read config: %w", err)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return config{}, fmt.Errorf("config %s is not valid JSON: %w; fix or remove it", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]profile{}
	}
	return c, nil
}

// saveConfig writes the config file atomically (a temporary file in the
// same directory, fsync, rename, fsync of the directory) with mode 0600,
// so a crash leaves the old file or the new one and others cannot read
// the tokens.
func saveConfig(path string, c config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // harmless after the rename
	if err := writeSync(f, b); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return syncDir(dir)
}

// writeSync writes b to f (mode 0600), flushes it to disk and closes it.
func writeSync(f *os.File, b []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save config: sync %s: %w", dir, err)
	}
	return nil
}

// profileNames lists the profiles, sorted.
func (c config) profileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// current is the name of the profile in use when none is chosen.
func (c config) current() string {
	if c.CurrentProfile != "" {
		return c.CurrentProfile
	}
	return defaultProfile
}

// noProfile is the error for a profile that is not in the file.
func (c config) noProfile(path, name string) error {
	if len(c.Profiles) == 0 {
		return fmt.Errorf("no profile %q: %s has no profiles; add one with: hog login --host URL --token TOKEN --profile %s", name, path, name)
	}
	return fmt.Errorf("no profile %q in %s; profiles: %s", name, path, strings.Join(c.profileNames(), ", "))
}

// token returns the profile's token, reading its token_file if it has
// one. configDir anchors a relative token_file; home expands "~/".
func (p profile) token(configDir, home string) (string, error) {
	if p.Token != "" || p.TokenFile == "" {
		return p.Token, nil
	}
	path := p.TokenFile
	switch {
	case strings.HasPrefix(path, "~/") && home != "":
		path = filepath.Join(home, path[2:])
	case !filepath.IsAbs(path):
		path = filepath.Join(configDir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token_file %s is empty", path)
	}
	return tok, nil
}
