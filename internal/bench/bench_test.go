package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

func TestPercentile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{
		{0, 1}, {50, 5.5}, {90, 9.1}, {99, 9.91}, {100, 10}, {-5, 1}, {150, 10},
	} {
		if got := Percentile(sorted, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile([]float64{7}, 99); got != 7 {
		t.Errorf("one sample: %v", got)
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("no samples: %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	s := Summarize(xs)
	if s.N != 5 || s.Min != 1 || s.Max != 5 || s.P50 != 3 || s.Mean != 3 {
		t.Errorf("Summarize = %+v", s)
	}
	if xs[0] != 5 {
		t.Error("Summarize sorted its argument in place")
	}
	if e := Summarize(nil); e.N != 0 || !math.IsNaN(float64(e.P50)) {
		t.Errorf("empty: %+v", e)
	}
	if got := msAll([]time.Duration{1500 * time.Microsecond}); got[0] != 1.5 {
		t.Errorf("msAll = %v", got)
	}
	if got := mibps(64<<20, 500*time.Millisecond); got != 128 {
		t.Errorf("mibps = %v", got)
	}
}

func sampleReport() *Report {
	r := &Report{StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Config: Config{N: 20, Samples: 200, Boxes: 100, Image: "busybox", ThroughputSeconds: 2, Workers: 4}}
	r.Machine = Machine{NProc: 2, Kernel: "6.1", Runtime: "runc version 1.1.5", GoVersion: "go1.26", Cgroup: "v1", MemTotalMiB: 24000}
	r.series("x_ms", []float64{1, 2, 3})
	r.series("empty", nil)
	r.add(
		newFigure("create → first exec", "create_serial_p50_ms", "serial ×20, p50", "ms", 80).
			vs("`runc run` | trivial", 50).atMost("≤ baseline + 20 ms", 70),
		newFigure("create → first exec", "create_parallel_wall_ms", "parallel wall", "ms", 200).
			vs("one serial create", 80).atMost("≤ 3× baseline", 240),
		newFigure("proxy", "proxy_throughput_rps", "throughput", "req/s", 900).
			vs("direct", 1000).atLeast("≥ 50% of baseline", 500),
		newFigure("idle memory", "plane_rss_growth_mib", "hogplane RSS growth per box", "MiB", 0.01),
	)
	r.addBreak(newFigure("exec", "nan", "no samples", "ms", math.NaN()).vs("zero", 0))
	r.notef("note %d", 1)
	return r
}

func TestReport(t *testing.T) {
	r := sampleReport()
	if pass, total := r.Targets(); pass != 2 || total != 3 {
		t.Errorf("Targets = %d of %d, want 2 of 3", pass, total)
	}
	var md strings.Builder
	r.Markdown(&md)
	out := md.String()
	for _, want := range []string{
		"Targets met: **2 of 3**",
		"| **create → first exec**: serial ×20, p50 | 80.0 ms | `runc run` \\| trivial | 50.0 ms | 1.60× | ≤ baseline + 20 ms (70.0 ms) | **FAIL** |",
		"| parallel wall | 200 ms | one serial create | 80.0 ms | 2.50× | ≤ 3× baseline (240 ms) | pass |",
		"| **proxy**: throughput | 900 req/s | direct | 1000 req/s | 0.900× | ≥ 50% of baseline (500 req/s) | pass |",
		"| **idle memory**: hogplane RSS growth per box | 0.010 MiB | n/a | n/a | n/a |  |  |",
		"## Where the time goes",
		"| x_ms | 3 | 1.00 | 2.00 | 2.80 | 2.98 | 3.00 | 2.00 |",
		"- note 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}

	dir := t.TempDir()
	if err := r.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json does not decode: %v\n%s", err, b)
	}
	if len(back.Figures) != 4 || back.Figures[0].Key != "create_serial_p50_ms" || back.Figures[0].Target.Pass ||
		float64(*back.Figures[2].Ratio) != 0.9 || back.Figures[3].Baseline != nil {
		t.Errorf("round trip: %+v", back.Figures)
	}
	if !math.IsNaN(float64(back.Breakdown[0].Value)) || !strings.Contains(string(b), `"value": null`) {
		t.Errorf("NaN should be null in JSON:\n%s", b)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "results.md")); err != nil || !strings.HasPrefix(string(md), "# hogland benchmark") {
		t.Errorf("results.md: %v %.40q", err, md)
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{0, "ms", "0 ms"}, {0.1234, "ms", "0.123 ms"}, {2.345, "ms", "2.35 ms"}, {23.45, "ms", "23.4 ms"},
		{1234.5, "req/s", "1234 req/s"}, {math.Inf(1), "ms", "n/a"}, {3, "", "3.00"},
	} {
		if got := formatValue(c.v, c.unit); got != c.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--quick", "--boxes", "7", "--only", "exec,proxy"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 4 || c.Boxes != 7 || c.Samples != 30 || c.FileRepsLarge != 2 || !c.runs("exec") || c.runs("create") {
		t.Errorf("quick config: %+v", c)
	}
	c, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 20 || c.Boxes != 100 || c.Image != "busybox" || c.Out != "bench" || c.Workers != 4 || !c.runs("memory") {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range [][]string{{"--only", "nope"}, {"--n", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestPlaneLog(t *testing.T) {
	l := newPlaneLog()
	fmt.Fprint(l, "time=x level=INFO msg=request request_id=r method=GET path=/v1/me status=200 bytes=1 ms=0\n")
	fmt.Fprint(l, "time=x level=INFO msg=\"box created\" driver=oci box=box-0123456789ab took=93.4")
	fmt.Fprint(l, "07ms\ntime=x level=ERROR msg=\"request failed\" err=boom\n")
	if d, ok := l.took("box-0123456789ab"); !ok || d != 93407*time.Microsecond {
		t.Errorf("took = %v, %v", d, ok)
	}
	if tail := l.tail(); strings.Contains(tail, "msg=request ") || !strings.Contains(tail, "boom") {
		t.Errorf("tail = %q", tail)
	}
}

// The benchmarks below drive real runc and a real hogplane; they need
// root, runc and the busybox image in the image cache.

func requireRoot(b *testing.B) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: hogplane and runc run boxes with namespaces, mounts and cgroups")
	}
	if _, err := os.Stat(filepath.Join(imageCache(), "busybox", "bin", "true")); err != nil {
		b.Skipf("no busybox image in %s (bin/hogplane image build busybox --image-dir %s)", imageCache(), imageCache())
	}
}

var (
	binOnce sync.Once
	binDir  string
	bins    Binaries
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// startTestPlane builds hogplane and hogpanion (once per test binary) and
// starts a hogplane over a temporary data dir, stopped at cleanup.
func startTestPlane(b *testing.B) *Plane {
	b.Helper()
	requireRoot(b)
	ctx := context.Background()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "hogbench-test-bin-"); binErr == nil {
			bins, binErr = findOrBuild(ctx, "", binDir, false)
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	data, err := os.MkdirTemp("", "hogbench-test-data-")
	if err != nil {
		b.Fatal(err)
	}
	p, err := StartPlane(ctx, PlaneConfig{Hogplane: bins.Hogplane, Agent: bins.Hogpanion, DataDir: data, ImageDir: imageCache()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Stop(ctx); err != nil {
			b.Errorf("stop hogplane: %v (left %s)", err, data)
			return
		}
		os.RemoveAll(data)
	})
	return p
}

// BenchmarkHostForkExec is the exec baseline: os/exec of /bin/true.
func BenchmarkHostForkExec(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := hostForkExec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRuncRunTrue is the create baseline: `runc run` of /bin/true in
// a trivial bundle over the busybox image.
func BenchmarkRuncRunTrue(b *testing.B) {
	requireRoot(b)
	rc, err := NewRunc("runc", filepath.Join(imageCache(), "busybox"))
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := rc.RunTrue(ctx, TrivialSpec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateToFirstExec creates a busybox box and runs `true` in it;
// destroying the box is not timed. Metric create-ms: the create alone.
func BenchmarkCreateToFirstExec(b *testing.B) {
	p := startTestPlane(b)
	ctx := context.Background()
	// The first box formats the disk template: keep it out.
	s, err := CreateToFirstExec(ctx, p, api.CreateBoxRequest{Image: "busybox"})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.DeleteBox(ctx, s.id); err != nil {
		b.Fatal(err)
	}
	var create time.Duration
	for b.Loop() {
		s, err := CreateToFirstExec(ctx, p, api.CreateBoxRequest{Image: "busybox"})
		if err != nil {
			b.Fatal(err)
		}
		create += s.create
		b.StopTimer()
		if err := p.DeleteBox(ctx, s.id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(ms(create)/float64(b.N), "create-ms")
}

// BenchmarkExecRoundTrip runs `true` in one box through the API.
func BenchmarkExecRoundTrip(b *testing.B) {
	p := startTestPlane(b)
	ctx := context.Background()
	box, err := p.CreateBox(ctx, "busybox")
	if err != nil {
		b.Fatal(err)
	}
	for range 5 { // the first execs in a new box are slower
		if _, err := p.Exec(ctx, box.ID, "true"); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := p.Exec(ctx, box.ID, "true"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestServeFlags(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "hogplane")
	script := "#!/bin/sh\nprintf 'Usage of hogplane serve:\\n  -data-dir string\\n    \\tdirectory\\n  -rate-limit float\\n    \\tcalls per second\\n' >&2\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	got := serveFlags(context.Background(), fake)
	if !got["data-dir"] || !got["rate-limit"] || got["directory"] || len(got) != 2 {
		t.Errorf("serveFlags = %v", got)
	}
}
