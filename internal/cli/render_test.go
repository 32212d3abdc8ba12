package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

var (
	t0     = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	expiry = t0.Add(30 * time.Minute)
	sample = api.Box{
		ID: "box-0123456789ab", Status: api.StatusRunning, Kind: "default",
		Spec:       api.BoxSpec{Name: "web", Image: "busybox", CPUs: 2, MemoryMiB: 1536, DiskGiB: 5},
		Tags:       []string{"env=dev", "team=ai"},
		AccessType: "none", TTLSeconds: 1800, ExpiresAt: &expiry,
		OwnerID: "prn-1", CreatedAt: t0, UpdatedAt: t0,
	}
)

func TestRender(t *testing.T) {
	v := struct {
		Name string    `json:"name"`
		Tags []string  `json:"tags"`
		At   time.Time `json:"at"`
		N    int       `json:"n"`
		Yes  string    `json:"yes"`
	}{"x", []string{"a=b"}, t0, 3, "yes"}
	text := func(w io.Writer) error { _, err := io.WriteString(w, "for people\n"); return err }
	cases := []struct {
		out  output
		want string
	}{
		{output{format: "text"}, "for people\n"},
		{output{format: "table"}, "for people\n"},
		{output{json: true, format: "text"}, "{\n  \"name\": \"x\",\n  \"tags\": [\n    \"a=b\"\n  ],\n  \"at\": \"2026-03-04T05:06:07Z\",\n  \"n\": 3,\n  \"yes\": \"yes\"\n}\n"},
		{output{format: "json"}, "{\n  \"name\": \"x\",\n  \"tags\": [\n    \"a=b\"\n  ],\n  \"at\": \"2026-03-04T05:06:07Z\",\n  \"n\": 3,\n  \"yes\": \"yes\"\n}\n"},
		{output{format: "yaml"}, "name: x\ntags:\n  - a=b\nat: \"2026-03-04T05:06:07Z\"\n\"n\": 3\n\"yes\": \"yes\"\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := render(&b, c.out, v, text); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%+v:\n%s\nwant:\n%s", c.out, b.String(), c.want)
		}
	}
	for _, bad := range []output{{format: "xml"}, {json: true, format: "yaml"}} {
		err := render(io.Discard, bad, v, text)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%+v: err = %v, want a usage error", bad, err)
		}
	}
}

func TestBoxTable(t *testing.T) {
	stopped := sample
	stopped.ID, stopped.Status, stopped.TerminationReason = "box-ba9876543210", api.StatusStopped, api.ReasonOOM
	stopped.Spec.Name, stopped.Tags, stopped.Spec.MemoryMiB, stopped.CreatedAt = "", nil, 512, t0.Add(-50*time.Hour)
	var b bytes.Buffer
	if err := boxTable(&b, []api.Box{sample, stopped}, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID                NAME  STATUS         IMAGE    CPUS  MEMORY    TAGS             AGE\n" +
		"box-0123456789ab  web   running        busybox  2     1536 MiB  env=dev,team=ai  1m\n" +
		"box-ba9876543210  -     stopped (oom)  busybox  2     512 MiB   -                2d\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestBoxText(t *testing.T) {
	var b bytes.Buffer
	if err := boxText(&b, sample, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := `ID:        box-0123456789ab
Name:      web
Status:    running
Kind:      default
Image:     busybox
CPUs:      2
Memory:    1536 MiB
Disk:      5 GiB
Tags:      env=dev, team=ai
Idle TTL:  30m0s
Expires:   2026-03-04T05:36:07Z (in 25m)
Created:   2026-03-04T05:06:07Z (5m ago)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestLimitsText(t *testing.T) {
	l := api.Limits{
		CPUs: api.Range{Min: 1, Max: 16, Default: 1}, MemoryMiB: api.Range{Min: 64, Max: 65536, Default: 1024},
		DiskGiB: api.Range{Min: 1, Max: 200, Default: 5}, TTLSeconds: api.Range{Min: 10, Max: 604800, Default: 1800},
		ExecTimeoutSeconds: api.Range{Min: 1, Max: 86400, Default: 60}, FileSizeBytes: api.Range{Max: 1 << 30},
		ExecOutputBytes: 1 << 20, Images: []string{"debian", "busybox"},
		Kinds: []api.KindInfo{{Name: "default", DefaultTTLSeconds: 1800}},
		Quota: api.Quota{MaxBoxes: 10, MaxCPUs: 20, MaxMemoryMiB: 8192}, Usage: api.Usage{Boxes: 1, CPUs: 2, MemoryMiB: 1024},
	}
	var b bytes.Buffer
	if err := limitsText(&b, l); err != nil {
		t.Fatal(err)
	}
	want := `SETTING               MIN  MAX         DEFAULT
cpus                  1    16          1
memory_mib            64   65536       1024
disk_gib              1    200         5
ttl_seconds           10   604800      1800
exec_timeout_seconds  1    86400       60
file_size_bytes       0    1073741824  0

Images:           debian, busybox
Kinds:            default (ttl 1800s)
Exec output cap:  1048576 bytes per stream (batch exec)
Boxes:            1 of 10
CPUs:             2 of 20
Memory:           1024 of 8192 MiB
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 0: "0s", 59 * time.Second: "59s", time.Minute: "1m", 119 * time.Minute: "1h",
		47 * time.Hour: "47h", 49 * time.Hour: "2d",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
	if !strings.HasSuffix(mib(2048), "2 GiB") || mib(1000) != "1000 MiB" {
		t.Error(mib(2048), mib(1000))
	}
}
