package panion

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Restart backoff of the server child: it doubles while the server keeps
// dying young, and starts over after a server that lived long.
const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 5 * time.Second
	longLived       = 10 * time.Second
)

// runInit is `hogpanion init`: the box's PID 1. It runs `hogpanion serve`
// with the same flags as its child and restarts it when it dies, reaps
// every orphan, and on SIGTERM or SIGINT passes the signal on to every
// process, waits up to --grace for them, kills what is left and exits 0.
//
// When it is not PID 1 (tests, or a runtime with its own init) it makes
// itself a child subreaper, so orphans of the box are reparented to it.
func runInit(args []string, stderr io.Writer) int {
	o, err := parseOptions(args, stderr, false)
	if err != nil {
		fmt.Fprintln(stderr, "hogpanion init:", err)
		return 2
	}
	log := newLogger(stderr, o.logLevel, "init")
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		log.Warn("cannot become a child subreaper; orphans may not be reaped", "err", err)
	}
	protectFromOOM()
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	sv := &supervisor{log: log, exe: exe, argv: append([]string{"hogpanion", "serve"}, args...),
		grace: o.grace, sigs: make(chan os.Signal, 64)}
	signal.Notify(sv.sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	return sv.run()
}

// supervisor is the state of init.
type supervisor struct {
	log   *slog.Logger
	exe   string
	argv  []string
	grace time.Duration
	sigs  chan os.Signal

	server    int // pid of the serve child; 0 while none runs
	startedAt time.Time
	backoff   time.Duration    // the last restart delay
	restart   <-chan time.Time // fires when the server is due to start again
	stopping  bool
}

func (sv *supervisor) run() int {
	sv.startServer()
	tick := time.NewTicker(time.Second) // in case a SIGCHLD was coalesced away
	defer tick.Stop()
	for {
		select {
		case sig := <-sv.sigs:
			if sig != syscall.SIGCHLD {
				return sv.shutdown(sig.(syscall.Signal))
			}
			sv.reap()
		case <-tick.C:
			sv.reap()
		case <-sv.restart:
			sv.restart = nil
			sv.startServer()
		}
	}
}

// startServer forks the serve child; on failure it tries again later.
func (sv *supervisor) startServer() {
	pid, err := syscall.ForkExec(sv.exe, sv.argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		// If init dies the box is gone; do not leave the server behind.
		Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		sv.log.Error("cannot start the server", "err", err)
		sv.scheduleRestart()
		return
	}
	sv.server, sv.startedAt = pid, time.Now()
	sv.log.Info("server started", "server_pid", pid)
}

// scheduleRestart starts the server again after the backoff delay.
func (sv *supervisor) scheduleRestart() {
	if time.Since(sv.startedAt) > longLived {
		sv.backoff = 0
	}
	sv.backoff = min(max(sv.backoff*2, minRestartDelay), maxRestartDelay)
	sv.restart = time.After(sv.backoff)
}

// reap collects every exited child and reports whether children remain.
func (sv *supervisor) reap() bool {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil: // ECHILD: no children at all
			return false
		case pid == 0:
			return true
		case pid == sv.server:
			sv.server = 0
			sv.log.Warn("server exited", "status", describeWait(ws))
			if !sv.stopping {
				sv.scheduleRestart()
			}
		}
	}
}

// shutdown passes sig on to every process, waits up to the grace period
// for them to exit, then kills the rest.
func (sv *supervisor) shutdown(sig syscall.Signal) int {
	sv.stopping = true
	sv.log.Info("stopping", "signal", sig.String())
	signalAll(sig)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(sv.grace)
	killed := false
	var giveUp <-chan time.Time
	for sv.reap() {
		select {
		case s := <-sv.sigs:
			if s != syscall.SIGCHLD && !killed { // asked again: stop waiting
				killed, giveUp = true, time.After(2*time.Second)
				signalAll(syscall.SIGKILL)
			}
		case <-tick.C:
		case <-deadline:
			sv.log.Warn("processes outlived the grace period; killing them", "grace", sv.grace)
			killed, giveUp = true, time.After(2*time.Second)
			signalAll(syscall.SIGKILL)
		case <-giveUp:
			sv.log.Error("processes survived SIGKILL; exiting anyway")
			return 1
		}
	}
	sv.log.Info("stopped")
	return 0
}

func describeWait(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by signal " + strconv.Itoa(int(ws.Signal())) + " (" + ws.Signal().String() + ")"
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}
