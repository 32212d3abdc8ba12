package oci

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// BenchmarkCreateDestroy measures a box's whole life: Create, then Dial
// until the agent answers, then Destroy. Metrics: create-ms (Create's
// return), dialable-ms (Create's start to the first accepted
// connection), destroy-ms.
func BenchmarkCreateDestroy(b *testing.B) {
	d := newDriver(b)
	ctx := context.Background()
	// The first box of a size formats its disk template; keep it out.
	warm := newID()
	createBox(b, d, testSpec(warm))
	if err := d.Destroy(ctx, warm); err != nil {
		b.Fatal(err)
	}
	var create, dialable, destroy time.Duration
	for b.Loop() {
		id := newID()
		start := time.Now()
		if err := d.Create(ctx, testSpec(id)); err != nil {
			b.Fatal(err)
		}
		create += time.Since(start)
		waitAgent(b, d, id)
		dialable += time.Since(start)
		start = time.Now()
		if err := d.Destroy(ctx, id); err != nil {
			b.Fatal(err)
		}
		destroy += time.Since(start)
	}
	n := float64(b.N) * float64(time.Millisecond)
	b.ReportMetric(float64(create)/n, "create-ms")
	b.ReportMetric(float64(dialable)/n, "dialable-ms")
	b.ReportMetric(float64(destroy)/n, "destroy-ms")
}

// BenchmarkRuncRunTrue is the baseline: `runc run` (foreground, so runc
// also deletes it) of /bin/true over the busybox image directly (no disk,
// no overlay), in a bundle with the boxes' namespaces, cgroup limits and
// hardening ("boxspec"), and the same without the seccomp profile, which
// runc 1.1 compiles on every start ("no-seccomp").
func BenchmarkRuncRunTrue(b *testing.B) {
	d := newDriver(b)
	for _, seccomp := range []bool{true, false} {
		name := "boxspec"
		if !seccomp {
			name = "no-seccomp"
		}
		b.Run(name, func(b *testing.B) {
			s, err := d.bundleSpec(testSpec("bench"), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			s.Root = &specs.Root{Path: busyboxRoot, Readonly: true}
			s.Mounts = s.Mounts[:len(s.Mounts)-2]
			s.Process.Args = []string{"/bin/true"}
			if !seccomp {
				s.Linux.Seccomp = nil
			}
			runTrue(b, d, s)
		})
	}
}

func runTrue(b *testing.B, d *Driver, s *specs.Spec) {
	bundle := b.TempDir()
	for b.Loop() {
		id := newID()
		s.Hostname, s.Linux.CgroupsPath = id, d.cgroupPath(id)
		data, _ := json.Marshal(s)
		if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := d.runtimeCmd(context.Background(), nil, "run", "--bundle", bundle, id)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
	}
}

// BenchmarkPauseResume measures one Pause and one Resume of an idle box.
func BenchmarkPauseResume(b *testing.B) {
	d := newDriver(b)
	ctx := context.Background()
	id := newID()
	createBox(b, d, testSpec(id))
	var pause, resume time.Duration
	for b.Loop() {
		start := time.Now()
		if err := d.Pause(ctx, id); err != nil {
			b.Fatal(err)
		}
		pause += time.Since(start)
		start = time.Now()
		if err := d.Resume(ctx, id); err != nil {
			b.Fatal(err)
		}
		resume += time.Since(start)
	}
	n := float64(b.N) * float64(time.Microsecond)
	b.ReportMetric(float64(pause)/n, "pause-µs")
	b.ReportMetric(float64(resume)/n, "resume-µs")
}

// BenchmarkStateStats measures the calls hogplane polls boxes with.
func BenchmarkStateStats(b *testing.B) {
	d := newDriver(b)
	ctx := context.Background()
	id := newID()
	createBox(b, d, testSpec(id))
	for b.Loop() {
		if _, err := d.State(ctx, id); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Stats(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
