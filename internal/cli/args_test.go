package cli

import (
	"bytes"
	"slices"
	"testing"

	"github.com/PostHog/hogland/api"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		unit int64
		want int64
		ok   bool
	}{
		{"512", 1, 512, true}, {"512Mi", 1, 512, true}, {"2Gi", 1, 2048, true}, {"2G", 1, 2048, true}, {"1GiB", 1, 1024, true},
		{"10", 1024, 10, true}, {"10Gi", 1024, 10, true}, {"2048Mi", 1024, 2, true}, {"1500Mi", 1024, 0, false},
		{"0", 1, 0, false}, {"-1", 1, 0, false}, {"lots", 1, 0, false}, {"", 1, 0, false},
	}
	for _, c := range cases {
		got, err := parseSize("memory", c.in, c.unit)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q, %d) = %d, %v", c.in, c.unit, got, err)
		}
	}
}

func TestParseDurations(t *testing.T) {
	for in, want := range map[string]int64{"90": 90, "90s": 90, "30m": 1800, "2h": 7200, "0": 0} {
		if got, err := parseSeconds("ttl", in); err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"1.5s", "-5m", "soon"} {
		if _, err := parseSeconds("ttl", in); err == nil {
			t.Errorf("parseSeconds(%q): no error", in)
		}
	}
	for in, want := range map[string]float64{"1.5": 1.5, "1500ms": 1.5, "2m": 120} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-1s", "later"} {
		if _, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q): no error", in)
		}
	}
}

func TestParseLocation(t *testing.T) {
	cases := map[string]location{
		"box-0123456789ab:/root/a": {box: "box-0123456789ab", path: "/root/a"},
		"web:/x":                   {box: "web", path: "/x"},
		"./a:b":                    {path: "./a:b"},
		"/tmp/a:b":                 {path: "/tmp/a:b"},
		"plain.txt":                {path: "plain.txt"},
		"-":                        {path: "-"},
		":x":                       {path: ":x"},
	}
	for in, want := range cases {
		if got := parseLocation(in); got != want {
			t.Errorf("parseLocation(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestCommandArgs(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"b", "--", "ls", "-l"}, []string{"b", "ls", "-l"}},
		{[]string{"b", "ls", "--"}, []string{"b", "ls", "--"}},
		{[]string{"b"}, []string{"b"}},
	}
	for _, c := range cases {
		if got := commandArgs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("commandArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestExitStatus(t *testing.T) {
	code := func(n int) *int { return &n }
	cases := []struct {
		ev     api.ExecEvent
		want   int
		stderr string
	}{
		{api.ExecEvent{ExitCode: code(0)}, 0, ""},
		{api.ExecEvent{ExitCode: code(3)}, 3, ""},
		{api.ExecEvent{ExitCode: code(-1), TimedOut: true}, 137, "hog: the command timed out after 2s and was killed\n"},
		{api.ExecEvent{ExitCode: code(-1)}, 255, "hog: the command was killed by a signal\n"},
		{api.ExecEvent{}, 255, "hog: the command was killed by a signal\n"},
	}
	for _, c := range cases {
		var errOut bytes.Buffer
		a := &app{stderr: &errOut}
		if got := a.exitStatus(c.ev, 2); got != c.want || errOut.String() != c.stderr {
			t.Errorf("%+v: %d %q, want %d %q", c.ev, got, errOut.String(), c.want, c.stderr)
		}
	}
}
