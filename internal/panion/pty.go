package panion

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// Terminal defaults.
const (
	defaultCols = 80
	defaultRows = 24
	defaultTerm = "xterm-256color"
	maxTermSide = 65535
)

// openPTY serves POST /v1/ptys with Upgrade: hogland-pty. It starts the
// process on a new pseudo-terminal first, so that every start problem is
// an ordinary answer; then it answers 101 and speaks the frame protocol
// of wire.WriteFrame until the process exits or the host goes away.
func (s *Server) openPTY(w http.ResponseWriter, r *http.Request) {
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", wire.PTYUpgrade) {
		s.fail(w, r, errs.New(errs.Invalid, "a terminal needs the headers Connection: Upgrade and Upgrade: %s", wire.PTYUpgrade))
		return
	}
	var req wire.PTYRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	cmd, size, err := preparePTY(req, s.environ())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, master, err := s.startPTY(cmd, size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		master.Close()
		hangup(p)
		s.fail(w, r, errs.Wrap(errs.Internal, err, "cannot take over the connection"))
		return
	}
	_ = conn.SetDeadline(time.Time{})
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + wire.PTYUpgrade + "\r\n\r\n")
	if err := brw.Flush(); err != nil {
		conn.Close()
		master.Close()
		hangup(p)
		<-p.Done()
		return
	}
	// brw.Reader may hold frames the host sent right after its request.
	ts := &ptySession{p: p, master: master, conn: conn, in: brw.Reader, grace: s.cfg.OutputGrace, log: s.log}
	ts.run()
}

// preparePTY validates a terminal request like an exec request: the
// default argv is the box's shell and TERM defaults to xterm-256color.
func preparePTY(req wire.PTYRequest, base []string) (*command, pty.Winsize, error) {
	size := pty.Winsize{Cols: defaultCols, Rows: defaultRows}
	for _, v := range []struct {
		name string
		n    int
		dst  *uint16
	}{{"cols", req.Cols, &size.Cols}, {"rows", req.Rows, &size.Rows}} {
		if v.n < 0 || v.n > maxTermSide {
			return nil, size, errs.New(errs.Invalid, "%s must be between 1 and %d, not %d", v.name, maxTermSide, v.n)
		}
		if v.n > 0 {
			*v.dst = uint16(v.n)
		}
	}
	argv := req.Argv
	if len(argv) == 0 {
		argv = []string{defaultShell()}
	}
	env := make(map[string]string, len(req.Env)+1)
	maps.Copy(env, req.Env)
	if _, ok := env["TERM"]; !ok {
		env["TERM"] = defaultTerm
	}
	cmd, err := prepare(api.ExecRequest{Argv: argv, Env: env, Workdir: req.Workdir}, base)
	return cmd, size, err
}

// defaultShell is /bin/bash when the box has it, else /bin/sh.
func defaultShell() string {
	if checkExecutable("/bin/bash") == nil {
		return "/bin/bash"
	}
	return "/bin/sh"
}

// startPTY starts cmd on a new pseudo-terminal of the given size, as the
// leader of a new session whose controlling terminal it is, and answers
// the process and the terminal's master side (registered with the
// runtime poller, so that closing it ends a blocked read or write).
func (s *Server) startPTY(cmd *command, size pty.Winsize) (*proc, *os.File, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "cannot open a pseudo-terminal in the box: %v (is devpts mounted on /dev/pts?)", err)
	}
	defer tty.Close()
	master, err := pollable(m)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "cannot set up the pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(tty, &size); err != nil {
		master.Close()
		return nil, nil, errs.Wrap(errs.Internal, err, "cannot set the terminal size: %v", err)
	}
	c := &exec.Cmd{Path: cmd.path, Args: cmd.argv, Env: cmd.env, Dir: cmd.dir,
		Stdin: tty, Stdout: tty, Stderr: tty,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}}
	if err := s.start.start(c); err != nil {
		master.Close()
		return nil, nil, startFailed(cmd.path, err)
	}
	// The terminal is the process's stdio: there are no pipes to settle.
	settled := make(chan struct{})
	close(settled)
	p := &proc{cmd: c, pid: c.Process.Pid, start: time.Now(), outEOF: settled, errEOF: settled, done: make(chan struct{})}
	s.track(p)
	go p.wait()
	return p, master, nil
}

// pollable turns the master side of a pseudo-terminal, which pty.Open
// leaves in blocking mode, into a non-blocking file in the runtime
// poller. It takes f over.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var ctlErr error
	if err := rc.Control(func(old uintptr) {
		fd, ctlErr = unix.FcntlInt(old, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if ctlErr != nil {
		return nil, ctlErr
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// setSize resizes the terminal of master; its foreground process group
// gets SIGWINCH.
func setSize(master *os.File, cols, rows int) error {
	if cols < 1 || rows < 1 || cols > maxTermSide || rows > maxTermSide {
		return errors.New("terminal size out of range: " + strconv.Itoa(cols) + "x" + strconv.Itoa(rows))
	}
	rc, err := master.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: uint16(rows)})
	})
	if err != nil {
		return err
	}
	return ioErr
}

// ptySession carries one terminal between the host connection and the
// master side of the pseudo-terminal.
type ptySession struct {
	p      *proc
	master *os.File
	conn   net.Conn
	in     *bufio.Reader // conn, with what the handshake buffered
	grace  time.Duration
	log    *slog.Logger
}

// run serves the session to its end: when the process exits, the output
// it left is sent (reading for up to the grace period, as other processes
// may hold the terminal), then the exit frame, then the connection is
// closed. When the host goes away first, the session is hung up: its
// processes are killed.
func (ts *ptySession) run() {
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		ts.output()
	}()
	hostGone := make(chan struct{})
	go func() {
		defer close(hostGone)
		ts.input()
	}()
	select {
	case <-ts.p.Done():
	case <-hostGone:
		hangup(ts.p)
		<-ts.p.Done()
	}
	t := time.NewTimer(ts.grace)
	select {
	case <-outDone:
	case <-t.C:
	}
	t.Stop()
	ts.master.Close()
	<-outDone
	b, _ := json.Marshal(wire.PTYExit{ExitCode: ts.p.Result().exitCode})
	if err := wire.WriteFrame(ts.conn, wire.FrameExit, b); err != nil {
		ts.log.Debug("pty exit frame not sent", "err", err)
	}
	ts.conn.Close()
	<-hostGone
}

// output sends what the terminal prints as data frames until the master
// side fails: EIO once no process holds the terminal, or closed. When the
// host stops taking frames, the output is drained into nothing, so the
// processes never block on a full terminal.
func (ts *ptySession) output() {
	buf := make([]byte, 32<<10)
	sending := true
	for {
		n, err := ts.master.Read(buf)
		if n > 0 && sending {
			sending = wire.WriteFrame(ts.conn, wire.FrameData, buf[:n]) == nil
		}
		if err != nil {
			return
		}
	}
}

// input applies the host's frames until its stream ends or breaks: data
// goes to the terminal, resizes to its size; other types are skipped.
func (ts *ptySession) input() {
	buf := make([]byte, 32<<10)
	for {
		typ, n, err := wire.ReadFrameHeader(ts.in)
		if err != nil {
			return
		}
		body := io.LimitReader(ts.in, int64(n))
		switch typ {
		case wire.FrameData:
			// A write error (the terminal is gone) drops the rest of the
			// frame; the exit frame is on its way.
			_, err = io.CopyBuffer(termWriter{ts.master}, body, buf)
		case wire.FrameResize:
			var sz wire.PTYSize
			if derr := json.NewDecoder(body).Decode(&sz); derr == nil {
				if serr := setSize(ts.master, sz.Cols, sz.Rows); serr != nil {
					ts.log.Debug("pty resize", "err", serr)
				}
			}
		}
		if err != nil {
			return
		}
		if _, err := io.CopyBuffer(io.Discard, body, buf); err != nil {
			return
		}
	}
}

// termWriter writes to the terminal and swallows its errors, so that a
// copy into it fails only on the reading side.
type termWriter struct{ f *os.File }

func (w termWriter) Write(p []byte) (int, error) {
	_, _ = w.f.Write(p)
	return len(p), nil
}

// hangup kills the session of p: every process of it (shells with job
// control put jobs in groups of their own), then p's process group. Once
// the leader exited it does nothing: its pid, the session id, may then
// name a new session.
func hangup(p *proc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return
	}
	// Not reaped yet, so the session id names this session only.
	for _, pid := range sessionMembers(p.pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = p.signalLocked(syscall.SIGKILL)
}

// sessionMembers lists the processes whose session id is sid.
func sessionMembers(sid int) []int {
	var out []int
	want := strconv.Itoa(sid)
	for _, pid := range allPids() {
		if f := statFields(pid); len(f) > 3 && f[3] == want {
			out = append(out, pid)
		}
	}
	return out
}
