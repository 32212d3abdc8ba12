// Package panion is hogpanion, the agent inside every box: in `serve`
// mode an HTTP/1.1 server that runs processes, moves files and relays TCP
// for the host (docs/agent-protocol.md is the contract); in `init` mode
// the box's PID 1, which runs `serve` as its child, reaps orphans and
// passes termination signals on.
package panion

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/PostHog/hogland/internal/panion/wire"
)

// Config tunes a Server. Zero fields take the defaults documented on them.
type Config struct {
	// Version is reported by /v1/health.
	Version string
	// Logger receives the agent's logs (default slog.Default()).
	Logger *slog.Logger
	// ChildExe, when set, is the agent binary, and processes start at
	// oom_score_adj 0 instead of the agent's own value: through its child
	// mode, which resets the value before the user's program runs, or,
	// once a probe run through it showed the agent may, by raising the
	// agent's own value around each fork (see starter in child.go).
	ChildExe string
	// NoForkReset keeps processes on ChildExe's child mode: no probe.
	NoForkReset bool
	// Env is the environment request envs are laid over (default os.Environ()).
	Env []string
	// EventBytes is how many bytes of events a streaming exec keeps (default 16 MiB).
	EventBytes int64
	// ExecRetention is how long a finished streaming exec is kept (default 10 minutes).
	ExecRetention time.Duration
	// OutputGrace is how long output pipes still held by other processes
	// are read after a process exited (default 500ms).
	OutputGrace time.Duration
	// Heartbeat is the interval of comment lines on an idle event stream (default 15s).
	Heartbeat time.Duration
	// ShutdownGrace is how long Serve waits for requests on shutdown (default 2s).
	ShutdownGrace time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	setDefault(&c.EventBytes, 16<<20)
	setDefault(&c.ExecRetention, 10*time.Minute)
	setDefault(&c.OutputGrace, 500*time.Millisecond)
	setDefault(&c.Heartbeat, 15*time.Second)
	setDefault(&c.ShutdownGrace, 2*time.Second)
}

func setDefault[T int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server is the agent's HTTP API. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	started time.Time
	mux     *http.ServeMux
	execs   registry

	start *starter // starts processes (child.go)

	mu    sync.Mutex
	procs map[*proc]struct{} // running, for Close
}

// NewServer makes a Server; it starts nothing until Serve or ServeHTTP.
func NewServer(cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), procs: make(map[*proc]struct{})}
	s.start = newStarter(cfg.ChildExe, !cfg.NoForkReset, cfg.Logger)
	mux := http.NewServeMux()
	mux.Handle("/v1/health", methods{"GET": s.health})
	mux.Handle("/v1/exec", methods{"POST": s.execBatch})
	mux.Handle("/v1/execs", methods{"POST": s.startExec})
	mux.Handle("/v1/execs/{id}", methods{"GET": s.execStatus})
	mux.Handle("/v1/execs/{id}/events", methods{"GET": s.execEvents})
	mux.Handle("/v1/execs/{id}/stdin", methods{"POST": s.execStdin})
	mux.Handle("/v1/execs/{id}/signal", methods{"POST": s.execSignal})
	mux.Handle("/v1/files", methods{"GET": s.readFile, "PUT": s.writeFile})
	mux.Handle("/v1/relay", methods{"GET": s.relay})
	mux.Handle("/v1/ptys", methods{"POST": s.openPTY})
	mux.Handle("/v1/archive", methods{"GET": s.readArchive, "PUT": s.writeArchive})
	mux.HandleFunc("/", notFound)
	s.mux = mux
	return s
}

// OOMReset says how processes come to start at oom_score_adj 0: "direct"
// (the agent's own value is 0), "trampoline" (ChildExe's child mode),
// "fork" (the agent raises its own value around each fork), or "probing"
// (the trampoline, while a probe finds out whether "fork" works).
func (s *Server) OOMReset() string { return s.start.mode() }

// ServeHTTP serves the agent protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve serves HTTP on every listener until ctx is done, then shuts down,
// waiting up to ShutdownGrace for requests in flight. It closes the
// listeners. Running processes are left alone (see Close).
func (s *Server) Serve(ctx context.Context, listeners ...net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		s.log.Info("serving", "addr", ln.Addr().String())
		go func() { errc <- hs.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if hs.Shutdown(sctx) != nil {
		hs.Close()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close kills the process group of every process still running and
// waits for them to end. The Server stays usable.
func (s *Server) Close() {
	s.mu.Lock()
	running := make([]*proc, 0, len(s.procs))
	for p := range s.procs {
		running = append(running, p)
	}
	s.mu.Unlock()
	for _, p := range running {
		_ = p.signal(syscall.SIGKILL)
	}
	for _, p := range running {
		<-p.Done()
	}
}

// startProc starts a process with the server's settings and tracks it
// until it ends.
func (s *Server) startProc(cfg procConfig) (*proc, error) {
	cfg.start, cfg.grace = s.start.start, s.cfg.OutputGrace
	p, err := startProc(cfg)
	if err != nil {
		return nil, err
	}
	s.track(p)
	return p, nil
}

// track keeps p among the running processes (for Close) until it ends.
func (s *Server) track(p *proc) {
	s.mu.Lock()
	s.procs[p] = struct{}{}
	s.mu.Unlock()
	go func() {
		<-p.Done()
		s.mu.Lock()
		delete(s.procs, p)
		s.mu.Unlock()
	}()
}

// environ is the environment requests' env is laid over.
func (s *Server) environ() []string { return s.cfg.Env }

// fail answers err as problem details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(s.log, w, r, err)
}

// health serves GET /v1/health.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, wire.Health{Version: s.cfg.Version, PID: os.Getpid(),
		UptimeMS: time.Since(s.started).Milliseconds()})
}
