package plane

import (
	"maps"
	"strings"
	"testing"

	"github.com/PostHog/hogland/internal/box"
)

func TestParseWarmPool(t *testing.T) {
	l := box.DefaultLimits()
	l.Images = []string{"debian", "busybox"}
	def := l.DiskGiB.Default
	ws := func(img string, gib int64) box.WarmShape { return box.WarmShape{Image: img, DiskGiB: gib} }
	for _, c := range []struct {
		in   string
		want map[box.WarmShape]int
	}{
		{"", map[box.WarmShape]int{}},
		{"none", map[box.WarmShape]int{}},
		{"debian=2", map[box.WarmShape]int{ws("debian", def): 2}},
		{"debian=2, busybox=5", map[box.WarmShape]int{ws("debian", def): 2, ws("busybox", def): 5}},
		{"debian=2,debian:50=3", map[box.WarmShape]int{ws("debian", def): 2, ws("debian", 50): 3}},
		{"debian=0", map[box.WarmShape]int{}},
	} {
		got, err := parseWarmPool(c.in, l)
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("parseWarmPool(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for in, want := range map[string]string{
		"debian":              "want IMAGE[:DISK_GIB]=N",
		"debian=x":            "want IMAGE[:DISK_GIB]=N",
		"debian=-1":           "want IMAGE[:DISK_GIB]=N",
		"debian=1001":         "want IMAGE[:DISK_GIB]=N",
		"alpine=1":            `unknown image "alpine"`,
		"debian=1,debian=2":   "given twice",
		"debian=1,debian:5=2": "given twice",
		"debian:0=1":          "must be a whole number of GiB",
		"debian:x=1":          "must be a whole number of GiB",
		"debian:100000=1":     "must be a whole number of GiB",
		"debian=1,,busybox=":  "want IMAGE[:DISK_GIB]=N",
	} {
		if _, err := parseWarmPool(in, l); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseWarmPool(%q) = %v, want an error with %q", in, err, want)
		}
	}
}
