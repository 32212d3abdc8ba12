// Package bench is hogbench: it measures, on this machine and in one run,
// what a hogland user waits for (create to first exec, exec round trip,
// time to the first streamed byte, file throughput, proxy latency and
// throughput, idle memory per box), each beside a baseline measured in
// the same run (runc run of a trivial bundle, a host fork/exec, a host
// file write, a direct loopback request) and as a ratio to it, and
// reports which targets are met. It writes results.json and results.md.
//
// It drives a real hogplane, started on a loopback port over a fresh data
// dir, through its HTTP API, and needs root (runc, mounts, cgroups).
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Sections are the parts of a run, in order.
var Sections = []string{"create", "exec", "files", "proxy", "memory"}

// Config is a run's settings.
type Config struct {
	Args    []string `json:"args"`
	Out     string   `json:"out"`
	Image   string   `json:"image"`
	N       int      `json:"n"`
	Boxes   int      `json:"boxes"`
	Samples int      `json:"samples"`
	// FileReps are the repetitions of the 1 MiB and 64 MiB file transfers.
	FileRepsSmall int `json:"file_reps_1mib"`
	FileRepsLarge int `json:"file_reps_64mib"`
	// ThroughputSeconds is how long each side of a throughput comparison
	// runs, with Workers keep-alive clients.
	ThroughputSeconds float64  `json:"throughput_seconds"`
	Workers           int      `json:"workers"`
	Quick             bool     `json:"quick"`
	Only              []string `json:"only,omitempty"`
	BinDir            string   `json:"-"`
	ImageDir          string   `json:"-"`
	WorkDir           string   `json:"-"`
}

func (c Config) runs(section string) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, section)
}

const usage = `hogbench measures hogland on this machine against same-run baselines.

Usage: hogbench [flags]   (as root; see scripts/bench.sh)

It prints a Markdown table and writes OUT/results.json and OUT/results.md.
It exits non-zero only on errors, never because a target is missed.

Flags:
`

// imageCache is the default image cache: $HOGLAND_IMAGE_CACHE, else
// hogplane's own default.
func imageCache() string {
	if d := os.Getenv("HOGLAND_IMAGE_CACHE"); d != "" {
		return d
	}
	return "/var/cache/hogland/images"
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (Config, error) {
	c := Config{Args: args}
	fs := flag.NewFlagSet("hogbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var only string
	fs.StringVar(&c.Out, "out", "bench", "directory for results.json and results.md")
	fs.StringVar(&c.Image, "image", "busybox", "image of the boxes")
	fs.IntVar(&c.N, "n", 20, "serial creates, and parallel creates at once")
	fs.IntVar(&c.Boxes, "boxes", 100, "boxes held at once for the idle memory figure")
	fs.IntVar(&c.Samples, "samples", 200, "samples of each per-request latency (exec, stream, proxy)")
	fs.Float64Var(&c.ThroughputSeconds, "throughput-seconds", 2, "duration of each side of a throughput comparison")
	fs.IntVar(&c.Workers, "workers", 4, "concurrent keep-alive clients for throughput")
	fs.BoolVar(&c.Quick, "quick", false, "small counts for a smoke run (n 4, 30 samples, 10 boxes, short throughput runs)")
	fs.StringVar(&only, "only", "", "comma-separated sections to run (default all): "+strings.Join(Sections, ","))
	fs.StringVar(&c.BinDir, "bin", "bin", "directory with hogplane and hogpanion; built into a temp dir when missing")
	fs.StringVar(&c.ImageDir, "image-dir", imageCache(), "image cache (the runc baseline uses its busybox image)")
	fs.StringVar(&c.WorkDir, "work-dir", os.TempDir(), "where the data dir and the host file baseline go")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick {
		quick := map[string]func(){
			"n":                  func() { c.N = 4 },
			"samples":            func() { c.Samples = 30 },
			"boxes":              func() { c.Boxes = 10 },
			"throughput-seconds": func() { c.ThroughputSeconds = 0.5 },
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}
	c.FileRepsSmall, c.FileRepsLarge = max(5, c.Samples/10), 5
	if c.Quick {
		c.FileRepsSmall, c.FileRepsLarge = 3, 2
	}
	if only != "" {
		for s := range strings.SplitSeq(only, ",") {
			if !slices.Contains(Sections, s) {
				return c, fmt.Errorf("--only: unknown section %q (have %s)", s, strings.Join(Sections, ","))
			}
			c.Only = append(c.Only, s)
		}
	}
	switch {
	case c.N < 1, c.Boxes < 1, c.Samples < 1, c.Workers < 1:
		return c, errors.New("--n, --boxes, --samples and --workers must be at least 1")
	case c.ThroughputSeconds <= 0:
		return c, errors.New("--throughput-seconds must be positive")
	}
	return c, nil
}

// Main is hogbench's main; it returns the exit code: 0 when the run
// completed (whatever the targets), 1 on an error, 2 on bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hogbench:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "hogbench: needs root: hogplane runs boxes with runc, mounts and cgroups")
		return 1
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, runErr := Run(ctx, cfg, stderr)
	if rep == nil {
		fmt.Fprintln(stderr, "hogbench:", runErr)
		return 1
	}
	if runErr != nil {
		rep.notef("INCOMPLETE RUN: %v", runErr)
	}
	rep.Markdown(stdout)
	if err := rep.WriteFiles(cfg.Out); err != nil {
		fmt.Fprintln(stderr, "hogbench:", err)
		return 1
	}
	pass, total := rep.Targets()
	fmt.Fprintf(stderr, "hogbench: %d of %d targets met; wrote %s and %s\n", pass, total,
		filepath.Join(cfg.Out, "results.json"), filepath.Join(cfg.Out, "results.md"))
	if runErr != nil {
		fmt.Fprintln(stderr, "hogbench:", runErr)
		return 1
	}
	return 0
}

// runner holds what the sections share.
type runner struct {
	cfg   Config
	log   io.Writer
	rep   *Report
	bins  Binaries
	runc  *Runc
	plane *Plane
	// dataDir is hogplane's data dir; the host file baseline writes there
	// too, to stay on the same filesystem.
	dataDir string
}

func (x *runner) progress(format string, a ...any) {
	fmt.Fprintf(x.log, "hogbench: "+format+"\n", a...)
}

// Run does a whole run and returns its report, partial when err is not
// nil (nil if nothing could be measured).
func Run(ctx context.Context, cfg Config, log io.Writer) (rep *Report, err error) {
	start := time.Now()
	tmp, err := os.MkdirTemp(cfg.WorkDir, "hogbench-")
	if err != nil {
		return nil, err
	}
	x := &runner{cfg: cfg, log: log, dataDir: filepath.Join(tmp, "data")}
	cleanTmp := true
	defer func() {
		if cleanTmp {
			os.RemoveAll(tmp)
		} else {
			x.progress("left %s behind (boxes may still use it)", tmp)
		}
	}()
	x.progress("building (hogplane, hogpanion from %s if there, boxserver)", cfg.BinDir)
	if x.bins, err = findOrBuild(ctx, cfg.BinDir, tmp, true); err != nil {
		return nil, err
	}
	if x.runc, err = NewRunc("runc", filepath.Join(cfg.ImageDir, "busybox")); err != nil {
		return nil, fmt.Errorf("%w (build it: hogplane image build busybox --image-dir %s)", err, cfg.ImageDir)
	}
	defer x.runc.Close()
	if err := os.MkdirAll(x.dataDir, 0o700); err != nil {
		return nil, err
	}
	x.rep = &Report{Config: cfg, StartedAt: start.UTC(), Series: map[string]Summary{}}
	x.rep.Machine = probeMachine(ctx, x.runc.Path, x.bins.Hogplane, x.dataDir)
	x.progress("starting hogplane")
	// As many warm boxes as one burst of parallel creates takes.
	warm := fmt.Sprintf("%s=%d", cfg.Image, cfg.N)
	if x.plane, err = StartPlane(ctx, PlaneConfig{Hogplane: x.bins.Hogplane, Agent: x.bins.Hogpanion, DataDir: x.dataDir, ImageDir: cfg.ImageDir, WarmPool: warm}); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		if serr := x.plane.Stop(sctx); serr != nil {
			cleanTmp = false
			err = errors.Join(err, fmt.Errorf("stop hogplane: %w", serr))
		}
		x.rep.Seconds = Num(time.Since(start).Seconds())
	}()
	if len(x.plane.Lifted) > 0 {
		x.rep.notef("hogplane ran with %s: the bench measures the machine, not the per-principal rate limits and quotas.", strings.Join(x.plane.Lifted, ", "))
	}
	if err := x.warmUp(ctx); err != nil {
		return x.rep, fmt.Errorf("warm-up: %w\nhogplane log:\n%s", err, x.plane.Logs())
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"create", x.benchCreate}, {"exec", x.benchExec}, {"files", x.benchFiles},
		{"proxy", x.benchProxy}, {"memory", x.benchMemory},
	}
	if x.plane.WarmPool != "" {
		x.rep.notef("hogplane ran with --warm-pool %s: it keeps that many boxes of the default shape started ahead of demand, and a create that fits takes one (the default is 2); every section starts once they are all ready, so their refill does not share the CPU with a figure.", x.plane.WarmPool)
	}
	x.methodNotes()
	for _, s := range steps {
		if !cfg.runs(s.name) {
			continue
		}
		t := time.Now()
		if err := x.waitWarm(ctx); err != nil {
			return x.rep, fmt.Errorf("%s: %w\nhogplane log (tail):\n%s", s.name, err, x.plane.Logs())
		}
		if err := s.fn(ctx); err != nil {
			return x.rep, fmt.Errorf("%s: %w\nhogplane log (tail):\n%s", s.name, err, x.plane.Logs())
		}
		x.progress("%s done in %s", s.name, time.Since(t).Round(time.Millisecond))
	}
	return x.rep, nil
}

// warmUp makes a first box (formatting the disk template of its size),
// runs a command in it and destroys it, and runs runc twice, so that no
// one-off cost lands in a figure.
func (x *runner) warmUp(ctx context.Context) error {
	x.progress("warming up")
	for range 2 {
		if _, err := x.runc.RunTrue(ctx, TrivialSpec); err != nil {
			return err
		}
	}
	b, err := x.plane.CreateBox(ctx, x.cfg.Image)
	if err != nil {
		return err
	}
	if _, err := x.plane.Exec(ctx, b.ID, "true"); err != nil {
		return err
	}
	return x.plane.DeleteBox(ctx, b.ID)
}

// methodNotes says how the figures were taken.
func (x *runner) methodNotes() {
	r, c := x.rep, x.cfg
	r.notef("Boxes are %s boxes with the server's defaults (1 CPU, 1024 MiB, 5 GiB disk), driven over loopback HTTP with a keep-alive client; a warm-up box (which formats the disk template) is made and destroyed first.", c.Image)
	r.notef("Latency percentiles interpolate linearly between ranks: with %d creates p99 is close to the maximum. Throughputs are the median of per-transfer rates; request rates are completed requests over the run.", c.N)
	r.notef("Baselines are taken in the same run, interleaved sample by sample with the figure (create, exec, files, proxy latency) or in alternating rounds (throughput), so machine noise hits both alike.")
	r.notef("`runc run` baseline: a bundle like `runc spec` writes (namespaces, the usual mounts, read-only busybox root from the image cache, no seccomp, no limits) running /bin/true, with its own --root; foreground, so it includes runc's delete.")
	r.notef("Idle memory: the cgroup's memory.usage_in_bytes (v1) or memory.current (v2), summed over the boxes, beside the same for detached trivial `runc run -d` sleep containers; host MemAvailable and hogplane RSS deltas have no baseline (n/a) and MemAvailable moves with everything else on a shared machine.")
	r.notef("Breakdown rows talk to a box's agent directly over its Unix socket (as hogplane does), to split hogplane's share from the agent's.")
}

// waitWarm waits until hogplane's warm boxes are all ready (a no-op for
// a hogplane without them).
func (x *runner) waitWarm(ctx context.Context) error {
	if x.plane.WarmPool == "" {
		return nil
	}
	return x.plane.WaitWarm(ctx, x.cfg.Image, x.cfg.N)
}
