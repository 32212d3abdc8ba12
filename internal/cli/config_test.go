package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigKeepsUnknownMembers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hogland", "config.json")
	in := `{"current_profile":"a","future":{"x":1},"profiles":{"a":{"host":"http://h","token":"tok_1","region":"eu"}}}`
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Profiles["b"] = profile{Host: "http://other", TokenFile: "tok.txt"}
	if err := saveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "current_profile": "a",
  "future": {
    "x": 1
  },
  "profiles": {
    "a": {
      "host": "http://h",
      "region": "eu",
      "token": "tok_1"
    },
    "b": {
      "host": "http://other",
      "token_file": "tok.txt"
    }
  }
}
`
	if string(b) != want {
		t.Errorf("saved:\n%s\nwant:\n%s", b, want)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", st.Mode(), err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if cfg, err := loadConfig(filepath.Join(dir, "missing.json")); err != nil || len(cfg.Profiles) != 0 {
		t.Errorf("missing file: %+v, %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(bad); err == nil || !strings.Contains(err.Error(), "config "+bad+" is not valid JSON") {
		t.Errorf("bad file: %v", err)
	}
}

func TestConfigPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/hogland/config.json"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"}, "/h/.config/hogland/config.json"},
		{map[string]string{"HOME": "/h"}, "/h/.config/hogland/config.json"},
	}
	for _, c := range cases {
		if got, err := configPath(env(c.env)); err != nil || got != c.want {
			t.Errorf("%v: %q, %v", c.env, got, err)
		}
	}
	if _, err := configPath(env(nil)); err == nil {
		t.Error("no HOME: no error")
	}
}

// TestResolve checks where the host and token come from.
func TestResolve(t *testing.T) {
	home := t.TempDir()
	xdg := filepath.Join(home, "xdg")
	if err := os.WriteFile(filepath.Join(home, "secret"), []byte("tok_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config{CurrentProfile: "main", Profiles: map[string]profile{
		"main":  {Host: "http://main", Token: "tok_main"},
		"filed": {Host: "http://filed", TokenFile: "~/secret"},
		"rel":   {Host: "http://rel", TokenFile: "../../secret"},
	}}
	if err := saveConfig(filepath.Join(xdg, "hogland", "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                string
		host, token, prof   string
		env                 map[string]string
		wantHost, wantToken string
		wantErr             string
	}{
		{name: "current profile", wantHost: "http://main", wantToken: "tok_main"},
		{name: "flags win", host: "http://flag", token: "tok_flag", wantHost: "http://flag", wantToken: "tok_flag"},
		{name: "env over file", env: map[string]string{"HOG_TOKEN": "tok_env"}, wantHost: "http://main", wantToken: "tok_env"},
		{name: "flag over env", token: "tok_flag", env: map[string]string{"HOG_TOKEN": "tok_env"}, wantHost: "http://main", wantToken: "tok_flag"},
		{name: "--profile over env", prof: "filed", env: map[string]string{"HOG_HOST": "http://env", "HOG_TOKEN": "tok_env"}, wantHost: "http://filed", wantToken: "tok_file"},
		{name: "token file relative to the config", prof: "rel", wantHost: "http://rel", wantToken: "tok_file"},
		{name: "profile token stays with its host", env: map[string]string{"HOG_HOST": "http://elsewhere"},
			wantErr: "no token for http://elsewhere: log in with: hog login --host http://elsewhere (or set HOG_TOKEN)"},
		{name: "unknown profile", prof: "nope", wantErr: `no profile "nope" in ` + filepath.Join(xdg, "hogland", "config.json") + "; profiles: filed, main, rel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}
			for k, v := range c.env {
				env[k] = v
			}
			a := &app{getenv: func(k string) string { return env[k] }, host: c.host, token: c.token, profile: c.prof}
			got, err := a.resolve()
			switch {
			case c.wantErr != "":
				if err == nil || err.Error() != c.wantErr {
					t.Errorf("err = %v, want %q", err, c.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case got.host != c.wantHost || got.token != c.wantToken:
				t.Errorf("got %+v, want %s %s", got, c.wantHost, c.wantToken)
			}
		})
	}
}

// TestProfileCommands runs the profile verbs in process, on a config
// file only (no hogplane).
func TestProfileCommands(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
		code := a.run(context.Background(), args)
		return out.String(), errOut.String(), code
	}
	if out, errOut, code := run("profile", "ls"); out != "" || errOut != "No profiles yet; add one with: hog login --host URL --token TOKEN\n" || code != 0 {
		t.Errorf("empty ls: %q %q %d", out, errOut, code)
	}
	if out, _, _ := run("profile", "ls", "--json"); out != "[]\n" {
		t.Errorf("empty ls --json: %q", out)
	}
	path := filepath.Join(home, ".config", "hogland", "config.json")
	cfg := config{Profiles: map[string]profile{"default": {Host: "http://a", Token: "tok_a"}, "ci": {Host: "http://b", TokenFile: "/run/tok"}}}
	if err := saveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run("profile", "ls")
	want := "CURRENT  NAME     HOST      TOKEN\n" +
		"         ci       http://b  file /run/tok\n" +
		"*        default  http://a  saved\n"
	if out != want {
		t.Errorf("ls:\n%s\nwant:\n%s", out, want)
	}
	if out, _, code := run("profile", "use", "ci"); code != 0 || out != "Now using profile \"ci\" (http://b).\n" {
		t.Errorf("use: %q %d", out, code)
	}
	if out, _, code := run("profile", "rm", "ci"); code != 0 || out != "Removed profile \"ci\".\nIt was the current profile; pick another with: hog profile use NAME\n" {
		t.Errorf("rm: %q %d", out, code)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back config
	if err := json.Unmarshal(b, &back); err != nil || back.CurrentProfile != "" || len(back.Profiles) != 1 {
		t.Errorf("after rm: %s", b)
	}
	if _, errOut, code := run("profile", "rm", "ci"); code != 1 || errOut != "Error: no profile \"ci\" in "+path+"; profiles: default\n" {
		t.Errorf("rm again: %q %d", errOut, code)
	}
}

// TestUsageErrors checks mistakes in the command line exit 2 with a
// pointer to the help, before any call to hogplane.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"box", "create", "--memory", "lots"}, "Error: --memory \"lots\" is not a size such as 512Mi or 2Gi\nRun 'hog box create --help' for usage.\n"},
		{[]string{"box", "create", "--env", "NOEQUALS"}, "Error: --env \"NOEQUALS\" is not KEY=VALUE\nRun 'hog box create --help' for usage.\n"},
		{[]string{"box", "get"}, "Error: hog box get takes BOX, got 0 argument(s)\nRun 'hog box get --help' for usage.\n"},
		{[]string{"box", "ls", "-o", "xml"}, "Error: unknown output format \"xml\": use text, json or yaml\nRun 'hog box ls --help' for usage.\n"},
		{[]string{"box", "ls", "--bogus"}, "Error: unknown flag: --bogus\nRun 'hog box ls --help' for usage.\n"},
		{[]string{"frobnicate"}, "Error: unknown command \"frobnicate\" for \"hog\"\nRun 'hog --help' for usage.\n"},
		{[]string{"cp", "a", "b"}, "Error: one side of hog cp must be in a box, such as box-0123456789ab:/root/a\nRun 'hog cp --help' for usage.\n"},
		{[]string{"exec", "--timeout", "soon", "box-0123456789ab", "true"}, "Error: --timeout \"soon\" is not a duration such as 30s or 5m\nRun 'hog exec --help' for usage.\n"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		code := a.run(context.Background(), c.args)
		if code != exitUsage || errOut.String() != c.want || out.Len() != 0 {
			t.Errorf("hog %s: exit %d\nstderr:\n%s\nwant:\n%s", strings.Join(c.args, " "), code, errOut.String(), c.want)
		}
	}
}
