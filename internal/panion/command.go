package panion

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// defaultPath is searched when the merged environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxTimeout is the longest timeout_seconds accepted (about ten years).
const maxTimeout = 10 * 365 * 24 * time.Hour

// command is a validated exec request, ready to start.
type command struct {
	path    string   // absolute path of the executable
	argv    []string // argv[0] as the caller wrote it
	env     []string
	dir     string
	stdin   string
	timeout time.Duration // 0: none
}

// prepare validates req against base (the agent's own environment) and
// resolves the executable. Every problem is an errs.Invalid whose detail
// names the offending field.
func prepare(req api.ExecRequest, base []string) (*command, error) {
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		return nil, errs.New(errs.Invalid, "argv is required and argv[0] must not be empty")
	}
	for i, a := range req.Argv {
		if strings.ContainsRune(a, 0) {
			return nil, errs.New(errs.Invalid, "argv[%d] contains a NUL byte", i)
		}
	}
	env, err := mergeEnv(base, req.Env)
	if err != nil {
		return nil, err
	}
	dir, err := workdir(req.Workdir)
	if err != nil {
		return nil, err
	}
	timeout, err := timeoutOf(req.TimeoutSeconds)
	if err != nil {
		return nil, err
	}
	path, err := lookPath(req.Argv[0], envValue(env, "PATH"), dir)
	if err != nil {
		return nil, err
	}
	return &command{path: path, argv: req.Argv, env: env, dir: dir, stdin: req.Stdin, timeout: timeout}, nil
}

// mergeEnv lays over on top of base: keys of over replace those of base in
// place, new keys follow in sorted order.
func mergeEnv(base []string, over map[string]string) ([]string, error) {
	keys := make([]string, 0, len(over))
	for k, v := range over {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, errs.New(errs.Invalid, "env name %q is not valid: it must be non-empty without '=' or NUL", k)
		}
		if strings.ContainsRune(v, 0) {
			return nil, errs.New(errs.Invalid, "env %s contains a NUL byte", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(base)+len(over))
	seen := make(map[string]bool, len(over))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := over[k]; ok {
			if seen[k] {
				continue
			}
			seen[k] = true
			kv = k + "=" + v
		}
		out = append(out, kv)
	}
	for _, k := range keys {
		if !seen[k] {
			out = append(out, k+"="+over[k])
		}
	}
	return out, nil
}

// envValue is the value of the last key in env, or "".
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// workdir resolves the requested working directory: /root when it exists
// and none was asked for, else /.
func workdir(dir string) (string, error) {
	if dir == "" {
		if st, err := os.Stat("/root"); err == nil && st.IsDir() {
			return "/root", nil
		}
		return "/", nil
	}
	if !filepath.IsAbs(dir) {
		return "", errs.New(errs.Invalid, "workdir %q must be an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", errs.New(errs.Invalid, "workdir %s does not exist in the box", dir)
	case err != nil:
		return "", errs.New(errs.Invalid, "workdir %s cannot be used: %v", dir, errors.Unwrap(err))
	case !st.IsDir():
		return "", errs.New(errs.Invalid, "workdir %s is not a directory", dir)
	}
	return dir, nil
}

// timeoutOf converts timeout_seconds; 0 means none.
func timeoutOf(sec float64) (time.Duration, error) {
	switch {
	case sec < 0 || math.IsNaN(sec):
		return 0, errs.New(errs.Invalid, "timeout_seconds must not be negative")
	case sec > maxTimeout.Seconds():
		return 0, errs.New(errs.Invalid, "timeout_seconds is too large (at most %d)", int64(maxTimeout.Seconds()))
	}
	return time.Duration(sec * float64(time.Second)), nil
}

// lookPath finds name like a shell does: a name with a slash is a path
// (relative to dir), any other is searched in pathEnv. Relative entries of
// pathEnv are relative to dir.
func lookPath(name, pathEnv, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := checkExecutable(p); err != nil {
			return "", err
		}
		return p, nil
	}
	if pathEnv == "" {
		pathEnv = defaultPath
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", errs.New(errs.Invalid, "executable not found: %s (searched PATH=%s)", name, pathEnv)
}

// checkExecutable says why p cannot be executed, or nil.
func checkExecutable(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errs.New(errs.Invalid, "executable not found: %s", p)
	case err != nil:
		return errs.New(errs.Invalid, "executable %s cannot be used: %v", p, errors.Unwrap(err))
	case st.IsDir():
		return errs.New(errs.Invalid, "executable %s is a directory", p)
	case st.Mode().Perm()&0o111 == 0:
		return errs.New(errs.Invalid, "file %s is not executable (no x permission bit)", p)
	}
	return nil
}
