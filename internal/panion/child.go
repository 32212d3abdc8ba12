package panion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// childMode is the hidden first argument of the agent binary that makes
// it a trampoline: `hogpanion __child PATH ARGV...` resets the process's
// oom_score_adj to 0, then execs PATH with ARGV and the environment it got.
//
// The agent lowers its own oom_score_adj to -1000 so the kernel's OOM
// killer picks the user's processes, never the agent. Children inherit the
// value, and writing /proc/PID/oom_score_adj after they started leaves a
// window in which they may fork before the write lands; resetting it in
// the child itself, before the user's program runs, leaves none.
//
// The trampoline reports an exec failure back over fd 3 (a pipe whose
// write end is close-on-exec), so a program that cannot be run is a start
// error of the agent, exactly as without the trampoline.
const childMode = "__child"

// statusFD is the trampoline's end of the start-status pipe.
const statusFD = 3

// launch starts c, through the trampoline childExe when it is set.
func launch(c *exec.Cmd, childExe string) error {
	if childExe == "" {
		return c.Start()
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("status pipe: %w", err)
	}
	defer sr.Close()
	path := c.Path
	c.Path = childExe
	c.Args = append([]string{"hogpanion", childMode, path}, c.Args...)
	c.ExtraFiles = []*os.File{sw}
	err = c.Start()
	sw.Close()
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(sr, 64))
	if len(msg) == 0 {
		return nil // EOF without a word: the exec succeeded
	}
	_ = c.Wait()
	n, _ := strconv.Atoi(strings.TrimSpace(string(msg)))
	if n <= 0 {
		n = int(syscall.EIO)
	}
	return &os.PathError{Op: "exec", Path: path, Err: syscall.Errno(n)}
}

// runChild is the trampoline; it returns only when the exec failed.
func runChild(args []string, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "usage: hogpanion __child PATH ARGV0 [ARG...]")
		return 2
	}
	// Raising the value needs no privilege; failure only means there is
	// no /proc, and then there is nothing to reset either.
	_ = os.WriteFile("/proc/self/oom_score_adj", []byte("0\n"), 0)
	syscall.CloseOnExec(statusFD)
	err := syscall.Exec(args[0], args[1:], os.Environ())
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.EIO
	}
	status := os.NewFile(statusFD, "status")
	if status != nil {
		fmt.Fprintf(status, "%d", int(errno))
	}
	return 127
}

// probeMode is the hidden first argument that makes the agent binary test
// whether a process may raise its oom_score_adj to 0 and lower it back
// (see starter). It exits 0 when it can.
const probeMode = "__oomprobe"

// runProbe is the probe: it raises its own oom_score_adj, inherited from
// the agent, to 0 and lowers it back, and says whether both took.
func runProbe(stderr io.Writer) int {
	own, err := os.ReadFile(oomScoreAdjPath)
	if err != nil {
		fmt.Fprintln(stderr, "hogpanion __oomprobe:", err)
		return 1
	}
	own = []byte(strings.TrimSpace(string(own)))
	if err := os.WriteFile(oomScoreAdjPath, []byte("0"), 0); err != nil {
		fmt.Fprintln(stderr, "hogpanion __oomprobe: raise to 0:", err)
		return 1
	}
	if err := os.WriteFile(oomScoreAdjPath, own, 0); err != nil {
		fmt.Fprintf(stderr, "hogpanion __oomprobe: lower back to %s: %v\n", own, err)
		return 1
	}
	if got := strconv.Itoa(oomScoreAdj()); got != string(own) {
		fmt.Fprintf(stderr, "hogpanion __oomprobe: oom_score_adj is %s after lowering it back to %s\n", got, own)
		return 1
	}
	return 0
}

// starter starts the user's processes at oom_score_adj 0 while the agent
// keeps its own, lower, value (see protectFromOOM).
//
// Children inherit the value at fork, so there are two ways:
//   - the trampoline (childExe's child mode, launch) resets it in the
//     child, at the price of starting the agent binary once more for every
//     process: about 3 ms of CPU here, more than the process itself;
//   - raising the agent's own value to 0 around the fork, and lowering it
//     back once the child has exec'd. Lowering needs no CAP_SYS_RESOURCE
//     down to the lowest value a privileged writer set (the kernel's
//     oom_score_adj_min, which the agent inherits from the box's init,
//     whose value the runtime set). Starts are serialized while the
//     agent's value is raised, a few hundred microseconds each.
//
// The second is used once a probe (probeMode, in a child that inherits
// the agent's value) showed that this kernel or runtime lets the value go
// back down; until then, or when it does not, the trampoline.
type starter struct {
	childExe string
	log      *slog.Logger

	mu      sync.Mutex // held while the agent's value is raised
	byFork  atomic.Bool
	probing atomic.Bool
	// Set by the probe before byFork first turns true.
	own []byte   // the agent's own value
	adj *os.File // the agent's oom_score_adj, open for writing
}

// newStarter makes a starter. With childExe set and probe true it starts
// the probe in the background.
func newStarter(childExe string, probe bool, log *slog.Logger) *starter {
	st := &starter{childExe: childExe, log: log}
	if childExe != "" && probe {
		st.probing.Store(true)
		go func() {
			defer st.probing.Store(false)
			st.probe()
		}()
	}
	return st
}

// mode is how children are started: "direct" (the agent's value is
// theirs), "trampoline" or "fork"; "probing" (through the trampoline)
// while the probe runs.
func (st *starter) mode() string {
	switch {
	case st.childExe == "":
		return "direct"
	case st.byFork.Load():
		return "fork"
	case st.probing.Load():
		return "probing"
	}
	return "trampoline"
}

func (st *starter) probe() {
	own := []byte(strconv.Itoa(oomScoreAdj()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, st.childExe, probeMode).CombinedOutput()
	if err != nil {
		st.log.Info("processes start through the child mode: the agent's oom_score_adj cannot be raised and lowered back",
			"err", err, "output", strings.TrimSpace(string(out)))
		return
	}
	f, err := os.OpenFile(oomScoreAdjPath, os.O_WRONLY, 0)
	if err != nil {
		st.log.Info("processes start through the child mode", "err", err)
		return
	}
	st.own, st.adj = own, f // published by the store below
	st.byFork.Store(true)
	st.log.Info("processes start at oom_score_adj 0: the agent raises its own around each fork", "agent_oom_score_adj", string(own))
}

// start starts c with oom_score_adj 0.
func (st *starter) start(c *exec.Cmd) error {
	if !st.byFork.Load() {
		return launch(c, st.childExe)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, err := st.adj.WriteAt([]byte("0"), 0); err != nil {
		return launch(c, st.childExe)
	}
	err := c.Start() // returns once the child has exec'd (vfork)
	if _, rerr := st.adj.WriteAt(st.own, 0); rerr != nil {
		// Not after a probe that passed; should it happen, the agent is
		// unprotected from now on, and the trampoline takes over.
		st.log.Error("cannot lower the agent's oom_score_adj back", "to", string(st.own), "err", rerr)
		st.byFork.Store(false)
	}
	return err
}
