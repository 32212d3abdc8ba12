package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/api"
)

// wsReadLimit caps one WebSocket message from hogplane.
const wsReadLimit = 1 << 20

// dialWebSocket opens a WebSocket to path with the client's token. A
// refusal before the upgrade is an *Error with the problem details.
func (c *Client) dialWebSocket(ctx context.Context, path string, q url.Values) (*websocket.Conn, error) {
	h := http.Header{"User-Agent": {c.userAgent}}
	if err := c.authorize(ctx, h); err != nil {
		return nil, err
	}
	ws, resp, err := websocket.Dial(ctx, c.endpoint(path, q.Encode()), &websocket.DialOptions{
		HTTPClient: c.hc, HTTPHeader: h, CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, readError(resp)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnError{Host: c.Host(), Op: "GET " + path, Err: err}
	}
	ws.SetReadLimit(wsReadLimit)
	return ws, nil
}

// TerminalOptions shape an interactive terminal.
type TerminalOptions struct {
	// Argv is the command; empty means a login shell (bash, else sh).
	Argv []string
	// Env holds NAME=VALUE pairs laid over the box's environment.
	Env []string
	// Workdir is the working directory (default /root when it exists).
	Workdir string
	// Cols and Rows are the terminal's size; 0 means 80x24.
	Cols, Rows int
}

// Terminal starts a process on a new pseudo-terminal in the box and
// returns it. Read gives the screen's bytes and Write sends keystrokes.
// While it is open the box does not idle out; closing it first kills the
// terminal's processes. The terminal lives within ctx.
func (c *Client) Terminal(ctx context.Context, boxID string, o TerminalOptions) (*Terminal, error) {
	q := url.Values{}
	for _, a := range o.Argv {
		q.Add("argv", a)
	}
	for _, e := range o.Env {
		q.Add("env", e)
	}
	if o.Workdir != "" {
		q.Set("workdir", o.Workdir)
	}
	if o.Cols > 0 {
		q.Set("cols", strconv.Itoa(o.Cols))
	}
	if o.Rows > 0 {
		q.Set("rows", strconv.Itoa(o.Rows))
	}
	ws, err := c.dialWebSocket(ctx, boxPath(boxID)+"/pty", q)
	if err != nil {
		return nil, err
	}
	return &Terminal{ws: ws, ctx: ctx}, nil
}

// Terminal is a process on a pseudo-terminal in a box. Read is for one
// goroutine and Write and Resize for another.
type Terminal struct {
	ws *websocket.Conn
	// ctx bounds the terminal: the caller's context of Terminal.
	ctx  context.Context
	rest []byte // unread bytes of the last screen message

	mu       sync.Mutex
	exitCode *int
}

// Read reads the terminal's output. After the process exits it returns
// io.EOF, and ExitCode tells how it ended.
func (t *Terminal) Read(p []byte) (int, error) {
	for len(t.rest) == 0 {
		typ, msg, err := t.ws.Read(t.ctx)
		if err != nil {
			return 0, readEnd(t.ctx, "terminal", err)
		}
		if typ == websocket.MessageBinary {
			t.rest = msg
			continue
		}
		var m api.PTYMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			return 0, fmt.Errorf("terminal: bad control message %q", msg)
		}
		if m.Type == api.MessageExit {
			code := -1
			if m.ExitCode != nil {
				code = *m.ExitCode
			}
			t.mu.Lock()
			t.exitCode = &code
			t.mu.Unlock()
		}
	}
	n := copy(p, t.rest)
	t.rest = t.rest[n:]
	return n, nil
}

// readEnd turns the end of a socket read into io.EOF when it closed
// normally, into the context's error when that ended first.
func readEnd(ctx context.Context, what string, err error) error {
	if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
		return io.EOF
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Write sends keystrokes (or any bytes) to the terminal.
func (t *Terminal) Write(p []byte) (int, error) {
	if err := t.ws.Write(t.ctx, websocket.MessageBinary, p); err != nil {
		return 0, fmt.Errorf("terminal: %w", err)
	}
	return len(p), nil
}

// Resize tells the terminal its new size.
func (t *Terminal) Resize(cols, rows int) error {
	msg, err := json.Marshal(api.PTYMessage{Type: api.MessageResize, Cols: cols, Rows: rows})
	if err != nil {
		return err
	}
	return t.ws.Write(t.ctx, websocket.MessageText, msg)
}

// ExitCode is the process's exit code (-1 when a signal killed it), once
// Read has returned io.EOF; ok is false before.
func (t *Terminal) ExitCode() (code int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exitCode == nil {
		return 0, false
	}
	return *t.exitCode, true
}

// Close ends the terminal; if its process still runs, hogplane kills every
// process of its session. Closing twice is harmless.
func (t *Terminal) Close() error { return closeWS(t.ws) }

// closeWS closes a WebSocket normally; one already closed, by either
// side, is no error.
func closeWS(ws *websocket.Conn) error {
	err := ws.Close(websocket.StatusNormalClosure, "")
	if err == nil || errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 {
		return nil
	}
	return err
}

// Tunnel opens a TCP stream to 127.0.0.1:port inside the box, through its
// agent (port forwarding). It fails with a 502 *Error when nothing listens
// there. The stream lives within ctx.
func (c *Client) Tunnel(ctx context.Context, boxID string, port int) (*TunnelConn, error) {
	ws, err := c.dialWebSocket(ctx, fmt.Sprintf("%s/ports/%d/tunnel", boxPath(boxID), port), nil)
	if err != nil {
		return nil, err
	}
	return &TunnelConn{ws: ws, ctx: ctx}, nil
}

// TunnelConn is a TCP stream to a port in a box. Read is for one
// goroutine and Write and CloseWrite for another.
type TunnelConn struct {
	ws *websocket.Conn
	// ctx bounds the stream: the caller's context of Tunnel.
	ctx  context.Context
	rest []byte
	eof  bool
}

// Read reads what the port in the box sends; io.EOF once it stopped
// sending (it may still read what Write sends).
func (t *TunnelConn) Read(p []byte) (int, error) {
	for len(t.rest) == 0 {
		if t.eof {
			return 0, io.EOF
		}
		typ, msg, err := t.ws.Read(t.ctx)
		if err != nil {
			err = readEnd(t.ctx, "tunnel", err)
			t.eof = errors.Is(err, io.EOF)
			return 0, err
		}
		if typ == websocket.MessageBinary {
			t.rest = msg
			continue
		}
		var m api.TunnelMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			return 0, fmt.Errorf("tunnel: bad control message %q", msg)
		}
		if m.Type == api.MessageEOF {
			t.eof = true
		}
	}
	n := copy(p, t.rest)
	t.rest = t.rest[n:]
	return n, nil
}

// Write sends bytes to the port in the box.
func (t *TunnelConn) Write(p []byte) (int, error) {
	if err := t.ws.Write(t.ctx, websocket.MessageBinary, p); err != nil {
		return 0, fmt.Errorf("tunnel: %w", err)
	}
	return len(p), nil
}

// CloseWrite says no more bytes will be written: the port in the box
// reads EOF (a TCP half-close).
func (t *TunnelConn) CloseWrite() error {
	msg, err := json.Marshal(api.TunnelMessage{Type: api.MessageEOF})
	if err != nil {
		return err
	}
	return t.ws.Write(t.ctx, websocket.MessageText, msg)
}

// Close ends the stream both ways.
func (t *TunnelConn) Close() error { return closeWS(t.ws) }
