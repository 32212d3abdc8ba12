// Package plane is the hogplane program: it parses the command line, wires
// the store, the runtime driver, the box manager and the HTTP server, and
// runs until told to stop.
package plane

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/image"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/runtime/oci"
	"github.com/PostHog/hogland/internal/server"
	"github.com/PostHog/hogland/internal/store"
)

// Version is stamped at build time with -ldflags "-X ...plane.Version=...".
var Version = "dev"

const usage = `hogplane runs hogland's control plane.

Usage:
  hogplane serve [flags]         serve the /v1 API
  hogplane image build NAME      build an image (debian, busybox) into the image cache
  hogplane version               print the version

Run "hogplane serve -h" for the flags.
`

// Run is hogplane's main. It returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "image":
		err = imageCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "hogplane", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "hogplane: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hogplane:", err)
		return 1
	}
	return 0
}

// Options are hogplane serve's settings.
type Options struct {
	DataDir   string
	Listen    string
	ImageDir  string
	AgentPath string
	Runtime   string
	RunDir    string
	LogJSON   bool
	// DebugListen, when set, serves Go's pprof profiles there (keep it on
	// loopback: it is not authenticated).
	DebugListen string
	// Identity: auth paths, default quotas, rate limits, audit (identity.go).
	Identity IdentityOptions
	// Snapshots: blob store, layer cache, chain depth, devboxes (snapshots.go).
	Snapshots SnapshotOptions
	// WarmPool is IMAGE[:DISK_GIB]=N[,...]: boxes to keep started ahead
	// of demand, by image and disk size ("" or "none": none).
	WarmPool string
}

func (o *Options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", "/var/lib/hogland", "directory for the database, box state and the admin token")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8470", "address to serve the API on (HOST:PORT)")
	fs.StringVar(&o.ImageDir, "image-dir", "", "image cache directory (default DATA-DIR/images)")
	fs.StringVar(&o.AgentPath, "agent", "", "path of the hogpanion binary (default: next to hogplane, then PATH)")
	fs.StringVar(&o.Runtime, "runtime", "runc", "OCI runtime: runc, crun or runsc")
	fs.StringVar(&o.RunDir, "run-dir", "", "short directory for sockets and runtime state (default /run/hogland/<hash>)")
	fs.BoolVar(&o.LogJSON, "log-json", true, "log as JSON lines")
	fs.StringVar(&o.DebugListen, "debug-listen", "", "serve Go pprof profiles on this address (e.g. 127.0.0.1:6060; unauthenticated)")
	fs.StringVar(&o.WarmPool, "warm-pool", "debian=2", "boxes to keep started ahead of demand, as IMAGE[:DISK_GIB]=N[,...] (default disk size if left out); a create of that image and disk size takes one instead of starting a box (\"none\": off)")
	o.Identity.flags(fs)
	o.Snapshots.flags(fs)
}

func (o *Options) fill() error {
	if o.DataDir == "" {
		return errors.New("--data-dir is required")
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	if o.ImageDir == "" {
		o.ImageDir = filepath.Join(o.DataDir, "images")
	}
	if o.AgentPath == "" {
		o.AgentPath, err = findAgent()
		if err != nil {
			return err
		}
	}
	return nil
}

// findAgent looks for hogpanion next to this executable, then on PATH.
func findAgent() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "hogpanion")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("hogpanion")
	if err != nil {
		return "", errors.New("hogpanion binary not found next to hogplane or on PATH; build it (make build) or pass --agent PATH")
	}
	return filepath.Abs(p)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o Options
	fs := flag.NewFlagSet("hogplane serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.fill(); err != nil {
		return err
	}
	sink := newLogSink(stderr) // batches the access log (logsink.go)
	defer sink.Flush()
	var handler slog.Handler = slog.NewTextHandler(sink, nil)
	if o.LogJSON {
		handler = slog.NewJSONHandler(sink, nil)
	}
	handler = sinkHandler{Handler: handler, sink: sink}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p, err := open(ctx, o, log)
	if err != nil {
		return err
	}
	defer p.close()

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another hogplane running?)", o.Listen, err)
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "hogplane %s serving on %s\n", Version, url)
	fmt.Fprintf(stdout, "admin token: %s (also in %s)\n", p.adminToken, filepath.Join(o.DataDir, "admin.token"))
	fmt.Fprintf(stdout, "try: curl -H \"Authorization: Bearer $(cat %s)\" %s/v1/me\n", filepath.Join(o.DataDir, "admin.token"), url)

	if o.DebugListen != "" {
		go serveDebug(o.DebugListen, log)
	}
	srv := &http.Server{Handler: p.server, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; boxes keep running")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return nil
}

// plane is a wired hogplane.
type plane struct {
	store      *store.Store
	boxes      *box.Manager
	server     *server.Server
	adminToken string
}

func open(ctx context.Context, o Options, log *slog.Logger) (_ *plane, err error) {
	// The flags first: a bad one need not wait for the store and images.
	limits := o.Snapshots.limits(o.Identity.limits(box.DefaultLimits()))
	warm, err := parseWarmPool(o.WarmPool, limits)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(o.DataDir, "hogland.db"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()
	token, err := bootstrap(ctx, st, o.DataDir)
	if err != nil {
		return nil, err
	}
	images, err := image.NewStore(image.Config{Dir: o.ImageDir, Logger: log})
	if err != nil {
		return nil, err
	}
	driver, err := oci.New(oci.Config{StateDir: filepath.Join(o.DataDir, "oci"), RunDir: o.RunDir, Runtime: o.Runtime, Logger: log})
	if err != nil {
		return nil, err
	}
	met := metrics.New(st.CountByStatus)
	layers, err := o.Snapshots.open(ctx, o.DataDir, log, met)
	if err != nil {
		return nil, err
	}
	mgr := box.New(box.Config{Store: st, Driver: driver, Images: images, AgentPath: o.AgentPath, Limits: limits, Log: log, Metrics: met,
		Layers: layers, SnapshotMaxDepth: o.Snapshots.MaxDepth, WarmPool: warm})
	if err := mgr.Start(ctx); err != nil {
		return nil, err
	}
	srv := server.New(server.Config{Boxes: mgr, Auth: o.Identity.authenticator(st), Store: st, Log: log, Version: Version, Metrics: met,
		Limiter: o.Identity.limiter(), AuditRetention: o.Identity.AuditRetention})
	return &plane{store: st, boxes: mgr, server: srv, adminToken: token}, nil
}

func (p *plane) close() {
	p.server.Close() // writes pending audit entries
	p.boxes.Close()
	_ = p.store.Close()
}

// serveDebug serves net/http/pprof's handlers on addr until the process
// exits.
func serveDebug(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("debug listener", "addr", addr, "err", err)
	}
}

// maxWarmPerShape bounds --warm-pool's counts.
const maxWarmPerShape = 1000

// parseWarmPool reads --warm-pool: IMAGE[:DISK_GIB]=N pairs separated by
// commas, each image one of l's and each disk size in its range; "" and
// "none" are no warm boxes. A shape without a disk size has the default.
func parseWarmPool(v string, l box.Limits) (map[box.WarmShape]int, error) {
	out := map[box.WarmShape]int{}
	if v = strings.TrimSpace(v); v == "" || v == "none" {
		return out, nil
	}
	for pair := range strings.SplitSeq(v, ",") {
		key, n, ok := strings.Cut(strings.TrimSpace(pair), "=")
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count < 0 || count > maxWarmPerShape {
			return nil, fmt.Errorf("--warm-pool: want IMAGE[:DISK_GIB]=N with N from 0 to %d, got %q", maxWarmPerShape, pair)
		}
		img, disk, hasDisk := strings.Cut(key, ":")
		shape := box.WarmShape{Image: img, DiskGiB: l.DiskGiB.Default}
		if hasDisk {
			gib, err := strconv.ParseInt(disk, 10, 64)
			if err != nil || gib < l.DiskGiB.Min || gib > l.DiskGiB.Max {
				return nil, fmt.Errorf("--warm-pool: disk size in %q must be a whole number of GiB from %d to %d", pair, l.DiskGiB.Min, l.DiskGiB.Max)
			}
			shape.DiskGiB = gib
		}
		if !slices.Contains(l.Images, img) {
			return nil, fmt.Errorf("--warm-pool: unknown image %q; available: %s", img, strings.Join(l.Images, ", "))
		}
		if _, dup := out[shape]; dup {
			return nil, fmt.Errorf("--warm-pool: %s with %d GiB of disk given twice", img, shape.DiskGiB)
		}
		if count > 0 {
			out[shape] = count
		}
	}
	return out, nil
}
