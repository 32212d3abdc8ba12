package box

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// Kind is a registered box kind and its server-side defaults.
type Kind struct {
	Name string
	// DefaultTTLSeconds is the idle timeout when a create gives none.
	DefaultTTLSeconds int64
	Description       string
}

// Limits are the valid ranges of box settings and the default quota.
type Limits struct {
	CPUs               api.Range
	MemoryMiB          api.Range
	DiskGiB            api.Range
	TTLSeconds         api.Range
	ExecTimeoutSeconds api.Range
	FileSizeBytes      api.Range
	ExecOutputBytes    int64
	Pids               int64
	Quota              api.Quota
	Kinds              []Kind
	Images             []string
	DefaultImage       string
	// AutoStopSeconds is the range of a devbox's idle time before it
	// stops (0, never, is allowed too).
	AutoStopSeconds api.Range
}

// DefaultLimits are the limits of a plane started with no settings.
func DefaultLimits() Limits {
	return Limits{
		CPUs:               api.Range{Min: 1, Max: 16, Default: 1},
		MemoryMiB:          api.Range{Min: 64, Max: 65536, Default: 1024},
		DiskGiB:            api.Range{Min: 1, Max: 200, Default: 5},
		TTLSeconds:         api.Range{Min: 10, Max: 7 * 24 * 3600, Default: 1800},
		ExecTimeoutSeconds: api.Range{Min: 1, Max: 24 * 3600, Default: 60},
		FileSizeBytes:      api.Range{Min: 0, Max: 8 << 30, Default: 0},
		ExecOutputBytes:    1 << 20,
		Pids:               2048,
		Quota:              api.Quota{MaxBoxes: 200, MaxCPUs: 400, MaxMemoryMiB: 1 << 20, MaxSnapshotBytes: 100 << 30},
		Kinds: []Kind{
			{Name: "default", DefaultTTLSeconds: 1800, Description: "general purpose; 30 min idle TTL"},
			{Name: "agent", DefaultTTLSeconds: 3600, Description: "API-driven agent runs; 1 h idle TTL"},
		},
		Images:          []string{"debian", "busybox"},
		DefaultImage:    "debian",
		AutoStopSeconds: api.Range{Min: 60, Max: 7 * 24 * 3600, Default: 1800},
	}
}

func (l Limits) kind(name string) (Kind, bool) {
	for _, k := range l.Kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

func (l Limits) kindNames() string {
	names := make([]string, 0, len(l.Kinds))
	for _, k := range l.Kinds {
		names = append(names, k.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}=[^\x00-\x1f]{0,255}$`)
)

func checkRange(field string, v int64, r api.Range) error {
	if v < r.Min || v > r.Max {
		return errs.New(errs.Invalid, "%s must be between %d and %d, got %d (see GET /v1/limits)", field, r.Min, r.Max, v)
	}
	return nil
}

func orDefault(v int64, r api.Range) int64 {
	if v == 0 {
		return r.Default
	}
	return v
}

// ValidateName checks a box name (empty is allowed: no name).
func ValidateName(name string) error {
	if name != "" && !nameRE.MatchString(name) {
		return errs.New(errs.Invalid, "name %q must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// ValidateTags checks tags of the form key=value.
func ValidateTags(tags []string) error {
	if len(tags) > 64 {
		return errs.New(errs.Invalid, "at most 64 tags, got %d", len(tags))
	}
	for _, t := range tags {
		if !tagRE.MatchString(t) {
			return errs.New(errs.Invalid, "tag %q must look like key=value (key: letters, digits, '.', '_', '/', '-')", t)
		}
	}
	return nil
}

func validateEnv(env map[string]string) error {
	if len(env) > 256 {
		return errs.New(errs.Invalid, "at most 256 env variables, got %d", len(env))
	}
	for k, v := range env {
		if !envKeyRE.MatchString(k) {
			return errs.New(errs.Invalid, "env name %q is not a valid variable name", k)
		}
		if strings.ContainsRune(v, 0) {
			return errs.New(errs.Invalid, "env %s contains a NUL byte", k)
		}
	}
	return nil
}

// ValidatePath checks a path inside a box: absolute, no NUL, no "..".
func ValidatePath(p string) error {
	switch {
	case p == "":
		return errs.New(errs.Invalid, "path is required (?path=/abs/path)")
	case !strings.HasPrefix(p, "/"):
		return errs.New(errs.Invalid, "path %q must be absolute", p)
	case strings.ContainsRune(p, 0):
		return errs.New(errs.Invalid, "path contains a NUL byte")
	case len(p) > 4096:
		return errs.New(errs.Invalid, "path is longer than 4096 bytes")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return errs.New(errs.Invalid, "path %q must not contain '..' segments", p)
		}
	}
	return nil
}

func validateExec(req *api.ExecRequest, l Limits, stream bool) error {
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		return errs.New(errs.Invalid, "argv must name a command, e.g. [\"python3\", \"-c\", \"print(1)\"]")
	}
	for i, a := range req.Argv {
		if strings.ContainsRune(a, 0) {
			return errs.New(errs.Invalid, "argv[%d] contains a NUL byte", i)
		}
	}
	if err := validateEnv(req.Env); err != nil {
		return err
	}
	if req.Workdir != "" {
		if err := ValidatePath(req.Workdir); err != nil {
			return fmt.Errorf("workdir: %w", err)
		}
	}
	if req.StdinOpen && !stream {
		return errs.New(errs.Invalid, "stdin_open applies to exec/stream only; a batch exec reads stdin from the request")
	}
	t := req.TimeoutSeconds
	switch {
	case t < 0:
		return errs.New(errs.Invalid, "timeout_seconds must not be negative")
	case t == 0 && !stream:
		req.TimeoutSeconds = float64(l.ExecTimeoutSeconds.Default)
	case t > float64(l.ExecTimeoutSeconds.Max):
		return errs.New(errs.Invalid, "timeout_seconds must be at most %d", l.ExecTimeoutSeconds.Max)
	}
	return nil
}
