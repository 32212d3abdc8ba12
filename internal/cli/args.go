package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// exactArgs wants exactly the named arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageError{fmt.Errorf("%s takes %s, got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// minArgs wants at least n arguments, described by what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s takes %s", cmd.CommandPath(), what)}
		}
		return nil
	}
}

// parseKV parses repeated KEY=VALUE flags into a map.
func parseKV(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--%s %q is not KEY=VALUE", flag, v)}
		}
		m[k] = val
	}
	return m, nil
}

// checkTags checks repeated key=value tags.
func checkTags(tags []string) error {
	for _, t := range tags {
		if k, _, ok := strings.Cut(t, "="); !ok || k == "" {
			return usageError{fmt.Errorf("--tag %q is not key=value", t)}
		}
	}
	return nil
}

// parseSize reads a size in unit (MiB or GiB) from a plain number of units
// or a number with a suffix: M, Mi, MB, MiB, G, Gi, GB, GiB (all binary).
func parseSize(flag, v string, unitMiB int64) (int64, error) {
	s := strings.TrimSpace(v)
	mult := unitMiB
	lower := strings.ToLower(s)
	for _, suf := range []struct {
		s string
		m int64
	}{{"gib", 1024}, {"gb", 1024}, {"gi", 1024}, {"g", 1024}, {"mib", 1}, {"mb", 1}, {"mi", 1}, {"m", 1}} {
		if strings.HasSuffix(lower, suf.s) {
			s, mult = strings.TrimSpace(s[:len(s)-len(suf.s)]), suf.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, usageError{fmt.Errorf("--%s %q is not a size such as 512Mi or 2Gi", flag, v)}
	}
	total := n * mult
	if total%unitMiB != 0 {
		return 0, usageError{fmt.Errorf("--%s %q is not a whole number of %s", flag, v, unitName(unitMiB))}
	}
	return total / unitMiB, nil
}

func unitName(unitMiB int64) string {
	if unitMiB == 1024 {
		return "GiB"
	}
	return "MiB"
}

// parseSeconds reads a duration such as 90s, 30m or 2h, or a plain number
// of seconds.
func parseSeconds(flag, v string) (int64, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d%time.Second != 0 {
		return 0, usageError{fmt.Errorf("--%s %q is not a duration in whole seconds such as 90s, 30m or 2h", flag, v)}
	}
	return int64(d / time.Second), nil
}

// parsePort reads the PORT argument, 1 to 65535.
func parsePort(v string) (int, error) {
	port, err := strconv.Atoi(v)
	if err != nil || port < 1 || port > 65535 {
		return 0, usageError{fmt.Errorf("PORT must be 1-65535, got %q", v)}
	}
	return port, nil
}
