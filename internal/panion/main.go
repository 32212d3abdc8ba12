package panion

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Version is the agent's version, set at build time with
// -ldflags "-X github.com/PostHog/hogland/internal/panion.Version=...".
var Version = "dev"

// DefaultListen is where the agent listens when no --listen is given.
const DefaultListen = "unix:/.hogland/run/agent.sock"

const usage = `usage: hogpanion MODE [flags]

modes:
  init     run as the box's PID 1: start "serve" as a child with the same
           flags, reap orphans, restart the server if it dies, pass
           SIGTERM/SIGINT on to every process and exit
  serve    serve the agent protocol over HTTP/1.1
  version  print the version

flags (init and serve):
`

// options are the flags of init and serve; init passes its own on.
type options struct {
	listen   []string
	logLevel slog.Level
	grace    time.Duration
}

// Main runs hogpanion with args (without the program name) and answers
// the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		parseOptions(nil, stderr, true)
		return 2
	}
	switch args[0] {
	case "init":
		return runInit(args[1:], stderr)
	case "serve":
		return runServe(args[1:], stderr)
	case childMode:
		return runChild(args[1:], stderr)
	case probeMode:
		return runProbe(stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "hogpanion", Version)
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		parseOptions(nil, stdout, true)
		return 0
	}
	fmt.Fprintf(stderr, "hogpanion: unknown mode %q\n\n%s", args[0], usage)
	return 2
}

// parseOptions reads the flags of init and serve; printDefaults only
// prints their help.
func parseOptions(args []string, out io.Writer, printDefaults bool) (options, error) {
	o := options{grace: 5 * time.Second}
	fs := flag.NewFlagSet("hogpanion", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Func("listen", "where to listen: unix:PATH or tcp:HOST:PORT; repeatable (default "+DefaultListen+")",
		func(v string) error { o.listen = append(o.listen, v); return nil })
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.DurationVar(&o.grace, "grace", o.grace, "on SIGTERM, how long to wait for processes before killing them")
	if printDefaults {
		fs.PrintDefaults()
		return o, nil
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if len(o.listen) == 0 {
		o.listen = []string{DefaultListen}
	}
	return o, nil
}

func newLogger(w io.Writer, level slog.Level, mode string) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).
		With("agent", "hogpanion", "mode", mode, "pid", os.Getpid())
}

// runServe is `hogpanion serve`: it serves until SIGTERM or SIGINT.
func runServe(args []string, stderr io.Writer) int {
	o, err := parseOptions(args, stderr, false)
	if err != nil {
		fmt.Fprintln(stderr, "hogpanion serve:", err)
		return 2
	}
	log := newLogger(stderr, o.logLevel, "serve")
	cfg := Config{Version: Version, Logger: log}
	if protectFromOOM() {
		if exe, err := os.Executable(); err == nil {
			cfg.ChildExe = exe
		} else {
			log.Warn("cannot find own binary; children keep the agent's oom_score_adj", "err", err)
		}
	}
	var lns []net.Listener
	for _, spec := range o.listen {
		ln, err := Listen(spec)
		if err != nil {
			log.Error("cannot listen", "err", err)
			return 1
		}
		lns = append(lns, ln)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := NewServer(cfg).Serve(ctx, lns...); err != nil {
		log.Error("serve failed", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
