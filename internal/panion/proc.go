package panion

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
)

// errExited: the process already exited, so it can no longer be signalled.
var errExited = errors.New("process has exited")

// procConfig says how to start one process.
type procConfig struct {
	cmd *command
	// stdout and stderr receive the output while it matters; each is
	// written by one goroutine at a time.
	stdout, stderr io.Writer
	// keepStdin keeps stdin a pipe after cmd.stdin is written, for more
	// writes (streaming exec with keep_stdin_open). Otherwise stdin is
	// cmd.stdin then EOF, or /dev/null when cmd.stdin is empty.
	keepStdin bool
	// start starts the process (the server's starter).
	start func(*exec.Cmd) error
	// grace is how long, after the process exited, output pipes that
	// other processes still hold open are read before they are let go.
	grace time.Duration
}

// procResult is how a process ended.
type procResult struct {
	exitCode int // -1 when killed by a signal
	timedOut bool
	duration time.Duration
}

// proc is one process started by the agent, in its own process group.
// Its goroutines end when its output pipes reach EOF; done is closed once
// the process exited and its output settled.
type proc struct {
	cmd   *exec.Cmd
	pid   int
	start time.Time
	grace time.Duration
	stdin *stdinPipe // nil when stdin is not a pipe

	outGate, errGate gate
	outEOF, errEOF   chan struct{}

	mu       sync.Mutex
	exited   bool // the leader was seen exiting: its pid may be reused soon
	timedOut bool
	timer    *time.Timer
	result   procResult

	done chan struct{}
}

// startProc starts cfg.cmd. The error is an *errs.Error fit for the caller.
func startProc(cfg procConfig) (*proc, error) {
	pp, err := openPipes(cfg.keepStdin || cfg.cmd.stdin != "")
	if err != nil {
		return nil, err
	}
	defer pp.closeChildEnds()
	c := &exec.Cmd{Path: cfg.cmd.path, Args: cfg.cmd.argv, Env: cfg.cmd.env, Dir: cfg.cmd.dir,
		Stdout: pp.child[0], Stderr: pp.child[1],
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if pp.stdinW != nil {
		c.Stdin = pp.child[2]
	}
	if err := cfg.start(c); err != nil {
		pp.closeAgentEnds()
		return nil, startFailed(cfg.cmd.path, err)
	}
	p := &proc{cmd: c, pid: c.Process.Pid, start: time.Now(), grace: cfg.grace,
		outEOF: make(chan struct{}), errEOF: make(chan struct{}), done: make(chan struct{})}
	p.outGate.w, p.errGate.w = cfg.stdout, cfg.stderr
	go pump(pp.outR, &p.outGate, p.outEOF)
	go pump(pp.errR, &p.errGate, p.errEOF)
	if pp.stdinW != nil {
		p.stdin = newStdinPipe(pp.stdinW)
		p.stdin.feed(cfg.cmd.stdin, !cfg.keepStdin)
	}
	if cfg.cmd.timeout > 0 {
		p.mu.Lock()
		p.timer = time.AfterFunc(cfg.cmd.timeout, p.expire)
		p.mu.Unlock()
	}
	go p.wait()
	return p, nil
}

// Done is closed when the process exited and its output settled.
func (p *proc) Done() <-chan struct{} { return p.done }

// Result is how the process ended; valid once Done is closed.
func (p *proc) Result() procResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result
}

// signal sends sig to the process group (and to the leader, should it
// have left the group). It fails with errExited once the leader exited,
// because from then on its pid and group id may name other processes.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signalLocked(sig)
}

func (p *proc) signalLocked(sig syscall.Signal) error {
	if p.exited {
		return errExited
	}
	gerr := syscall.Kill(-p.pid, sig)
	if pg, err := syscall.Getpgid(p.pid); gerr != nil || err != nil || pg != p.pid {
		return syscall.Kill(p.pid, sig)
	}
	return nil
}

// expire is the timeout: SIGKILL to the whole group.
func (p *proc) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signalLocked(syscall.SIGKILL) == nil {
		p.timedOut = true
	}
}

// wait follows the process to its end and publishes the result.
func (p *proc) wait() {
	// Wait without reaping first, so that signalLocked never signals a
	// pid that was reaped and reused.
	waitExitNoReap(p.pid)
	p.mu.Lock()
	p.exited = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	_ = p.cmd.Wait() // the status is read from ProcessState
	duration := time.Since(p.start)
	p.settle()
	if p.stdin != nil {
		p.stdin.shut()
	}
	p.mu.Lock()
	p.result = procResult{exitCode: exitCode(p.cmd.ProcessState), timedOut: p.timedOut, duration: duration}
	p.mu.Unlock()
	close(p.done)
}

// settle waits up to the grace period for both output pipes to reach EOF
// (other processes may still hold them), then shuts the gates: pipes not
// at EOF keep draining into nothing, so their writers never get SIGPIPE.
func (p *proc) settle() {
	t := time.NewTimer(p.grace)
	defer t.Stop()
	atEOF := func(eof chan struct{}) bool {
		select {
		case <-eof:
			return true
		case <-t.C:
			return false
		}
	}
	_ = atEOF(p.outEOF) && atEOF(p.errEOF)
	p.outGate.close()
	p.errGate.close()
}

// waitExitNoReap blocks until pid exited, leaving it a zombie.
func waitExitNoReap(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// exitCode is the exit status, or -1 when a signal ended the process.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1
	}
	return st.ExitCode()
}

// pumpBufs are pump's read buffers, two per process otherwise. Every
// writer pump feeds copies what it keeps.
var pumpBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// pump copies r to w until EOF, then closes r and eof.
func pump(r *os.File, w io.Writer, eof chan<- struct{}) {
	defer close(eof)
	defer r.Close()
	b := pumpBufs.Get().(*[32 << 10]byte)
	defer pumpBufs.Put(b)
	buf := b[:]
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = w.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// startFailed turns a start error into an *errs.Error.
func startFailed(path string, err error) error {
	cause := err
	var pe *os.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOMEM) {
		return errs.Wrap(errs.Unavailable, err, "cannot start %s: %v", path, cause)
	}
	return errs.Wrap(errs.Invalid, err, "cannot start %s: %v", path, cause)
}

// pipes are the stdio pipes of a process being started. The child ends
// go to the process and are closed in the agent once it started; the
// agent's ends are closed by closeAgentEnds if it failed to start.
type pipes struct {
	outR, errR *os.File   // stdout and stderr, read by the agent
	stdinW     *os.File   // stdin, written by the agent; nil for /dev/null
	child      []*os.File // the process's ends: stdout, stderr[, stdin]
}

func openPipes(withStdin bool) (*pipes, error) {
	pp := &pipes{}
	n := 2
	if withStdin {
		n = 3
	}
	for i := range n {
		r, w, err := os.Pipe()
		if err != nil {
			pp.closeChildEnds()
			pp.closeAgentEnds()
			return nil, errs.Wrap(errs.Unavailable, err, "cannot make a pipe in the box agent")
		}
		switch i {
		case 0:
			pp.outR, pp.child = r, append(pp.child, w)
		case 1:
			pp.errR, pp.child = r, append(pp.child, w)
		case 2:
			pp.stdinW, pp.child = w, append(pp.child, r)
		}
	}
	return pp, nil
}

func (pp *pipes) closeChildEnds() {
	for _, f := range pp.child {
		f.Close()
	}
}

func (pp *pipes) closeAgentEnds() {
	for _, f := range []*os.File{pp.outR, pp.errR, pp.stdinW} {
		if f != nil {
			f.Close()
		}
	}
}
