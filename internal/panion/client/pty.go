package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// PTYRequest says what to run on a terminal and how big it is.
type PTYRequest = wire.PTYRequest

// PTY is a process on a pseudo-terminal in the box, over its own
// connection to the agent. Read returns what the terminal prints, Write
// types into it. One goroutine may read while others write and resize.
type PTY struct {
	conn net.Conn
	r    *bufio.Reader

	wmu sync.Mutex // one frame at a time

	left     int   // payload bytes left in the current data frame
	exitCode int   // valid once exited
	exited   bool  // the exit frame arrived
	rerr     error // sticky read error (io.EOF after the exit frame)
}

// OpenPTY starts a process on a new pseudo-terminal in the box (HTTP
// Upgrade: hogland-pty). ctx bounds only the start. Start problems (no
// such executable, bad workdir) fail with errs.Invalid, as for Exec.
func (c *Client) OpenPTY(ctx context.Context, req PTYRequest) (*PTY, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "encode terminal request: %v", err)
	}
	hr, err := http.NewRequest(http.MethodPost, baseURL+"/v1/ptys", bytes.NewReader(body))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "bad terminal request: %v", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	conn, br, err := c.upgrade(ctx, hr, wire.PTYUpgrade)
	if err != nil {
		return nil, err
	}
	return &PTY{conn: conn, r: br}, nil
}

// Read reads terminal output. After the process exited and its output
// was read, Read returns io.EOF and ExitCode is valid. A connection that
// breaks first fails with errs.Unavailable.
func (p *PTY) Read(b []byte) (int, error) {
	for p.left == 0 {
		if p.rerr != nil {
			return 0, p.rerr
		}
		p.nextFrame()
	}
	if len(b) > p.left {
		b = b[:p.left]
	}
	n, err := p.r.Read(b)
	p.left -= n
	if err != nil {
		p.left, p.rerr = 0, hungUp(err)
		if n == 0 {
			return 0, p.rerr
		}
	}
	return n, nil
}

// nextFrame reads frame headers until a data frame with a payload, the
// exit frame, or an error.
func (p *PTY) nextFrame() {
	typ, n, err := wire.ReadFrameHeader(p.r)
	if err != nil {
		p.rerr = hungUp(err)
		return
	}
	switch typ {
	case wire.FrameData:
		p.left = n
		return
	case wire.FrameExit:
		var ex wire.PTYExit
		if err := json.NewDecoder(io.LimitReader(p.r, int64(n))).Decode(&ex); err != nil {
			p.rerr = hungUp(err)
			return
		}
		p.exitCode, p.exited, p.rerr = ex.ExitCode, true, io.EOF
		return
	}
	// A frame type this client does not know: skip it.
	if _, err := p.r.Discard(n); err != nil {
		p.rerr = hungUp(err)
	}
}

// ExitCode is the process's exit status (-1 when a signal ended it), once
// Read has returned io.EOF; ok is false before.
func (p *PTY) ExitCode() (code int, ok bool) { return p.exitCode, p.exited }

// Write types b into the terminal.
func (p *PTY) Write(b []byte) (int, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), 32<<10)]
		if err := wire.WriteFrame(p.conn, wire.FrameData, chunk); err != nil {
			return written, hungUp(err)
		}
		written += len(chunk)
		b = b[len(chunk):]
	}
	return written, nil
}

// Resize sets the terminal's size; its foreground processes get SIGWINCH.
// A size out of range (1 to 65535 each) is ignored by the agent.
func (p *PTY) Resize(cols, rows int) error {
	b, err := json.Marshal(wire.PTYSize{Cols: cols, Rows: rows})
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := wire.WriteFrame(p.conn, wire.FrameResize, b); err != nil {
		return hungUp(err)
	}
	return nil
}

// Close ends the connection. If the process still runs, the agent hangs
// up its session: every process of it is killed.
func (p *PTY) Close() error { return p.conn.Close() }

// hungUp is the error of a terminal connection that broke.
func hungUp(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return errs.Wrap(errs.Unavailable, err, "the box agent hung up the terminal: %v", err)
}
