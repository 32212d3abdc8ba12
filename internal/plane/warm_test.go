package plane

import (
	"maps"
	"strings"
	"testing"
)

func TestParseWarmPool(t *testing.T) {
	images := []string{"debian", "busybox"}
	for _, c := range []struct {
		in   string
		want map[string]int
	}{
		{"", map[string]int{}},
		{"none", map[string]int{}},
		{"debian=2", map[string]int{"debian": 2}},
		{"debian=2, busybox=5", map[string]int{"debian": 2, "busybox": 5}},
		{"debian=0", map[string]int{}},
	} {
		got, err := parseWarmPool(c.in, images)
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("parseWarmPool(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for in, want := range map[string]string{
		"debian":             "want IMAGE=N",
		"debian=x":           "want IMAGE=N",
		"debian=-1":          "want IMAGE=N",
		"debian=1001":        "want IMAGE=N",
		"alpine=1":           `unknown image "alpine"`,
		"debian=1,debian=2":  "given twice",
		"debian=1,,busybox=": "want IMAGE=N",
	} {
		if _, err := parseWarmPool(in, images); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseWarmPool(%q) = %v, want an error with %q", in, err, want)
		}
	}
}
