package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/PostHog/hogland/api"
)

// Exec runs a command in a box and returns its result once it exits. Each
// of stdout and stderr is capped (Limits().ExecOutputBytes); use
// ExecStream for more, or to see output as it comes. ExitCode is -1 when a
// signal killed the process, as on a timeout. Exec is not retried: the
// command could run twice.
func (c *Client) Exec(ctx context.Context, boxID string, req api.ExecRequest) (api.ExecResult, error) {
	var r api.ExecResult
	err := c.do(ctx, call{method: http.MethodPost, path: boxPath(boxID) + "/exec", json: req}, &r)
	return r, err
}

// ExecStream starts a command in a box and returns its output as a stream
// of events: stdout and stderr chunks, then one exit event. If the
// connection drops, the stream resumes from the last event it returned, so
// no event is lost or repeated. The stream lives within ctx; close it when
// done. Starting the command is not retried.
func (c *Client) ExecStream(ctx context.Context, boxID string, req api.ExecRequest) (*ExecStream, error) {
	resp, err := c.send(ctx, call{
		method: http.MethodPost, path: boxPath(boxID) + "/exec/stream", json: req,
		header: http.Header{"Accept": {"text/event-stream"}},
	})
	if err != nil {
		return nil, err
	}
	s := &ExecStream{c: c, ctx: ctx, boxID: boxID, execID: resp.Header.Get("X-Exec-Id")}
	s.attach(resp.Body)
	return s, nil
}

// ExecEvents opens the event stream of an exec started earlier, from the
// event after seq after (0 for the start). It resumes by itself like
// ExecStream. Errors: IsNotFound when the exec is unknown or forgotten.
func (c *Client) ExecEvents(ctx context.Context, boxID, execID string, after int64) (*ExecStream, error) {
	s := &ExecStream{c: c, ctx: ctx, boxID: boxID, execID: execID, last: after}
	if err := s.resume(); err != nil {
		return nil, err
	}
	return s, nil
}

// ExecStream is the output of a running command. Next and Close may be
// called from different goroutines; Next itself is not for concurrent use.
type ExecStream struct {
	c *Client
	// ctx bounds the stream and its resumes: it is the caller's context
	// of ExecStream, as an http.Response body is bound to its request.
	ctx    context.Context
	boxID  string
	execID string

	mu     sync.Mutex
	body   io.ReadCloser
	closed bool

	r     *sseReader
	last  int64 // seq of the last event returned
	drops int   // connection losses in a row without an event
	done  bool  // the exit event was returned
	err   error // sticky
}

// ID is the exec's id (X-Exec-Id), which ExecEvents takes to resume.
func (s *ExecStream) ID() string { return s.execID }

// LastSeq is the seq of the last event Next returned.
func (s *ExecStream) LastSeq() int64 { return s.last }

// Next returns the next event. After the exit event it returns io.EOF.
// When the connection drops it reconnects with Last-Event-ID, up to the
// client's MaxRetries times in a row; when that fails, or ctx ends, it
// returns the error, and again on every later call.
func (s *ExecStream) Next() (api.ExecEvent, error) {
	for {
		if s.err != nil {
			return api.ExecEvent{}, s.err
		}
		if s.done {
			return api.ExecEvent{}, io.EOF
		}
		if s.r == nil {
			if err := s.reconnect(); err != nil {
				s.err = err
				continue
			}
		}
		raw, err := s.r.next()
		if err == nil {
			ev, err := decodeExecEvent(raw)
			if err != nil {
				s.err = fmt.Errorf("exec %s: %w", s.execID, err)
				s.detach()
				continue
			}
			if ev.Seq != 0 && ev.Seq <= s.last {
				continue // sent again after a resume
			}
			s.last, s.drops = ev.Seq, 0
			if ev.Kind == api.EventExit {
				s.done = true
				s.detach()
			}
			return ev, nil
		}
		// The stream ended or broke before the exit event.
		s.detach()
		if s.isClosed() {
			s.err = errStreamClosed
			continue
		}
		if cerr := s.ctx.Err(); cerr != nil {
			s.err = cerr
			continue
		}
		s.drops++
	}
}

var errStreamClosed = errors.New("exec stream closed")

func execPath(boxID, execID string) string { return boxPath(boxID) + "/execs/" + escape(execID) }

// reconnect waits (after a drop) and resumes the stream.
func (s *ExecStream) reconnect() error {
	if s.execID == "" {
		return errors.New("exec stream lost, and hogplane sent no X-Exec-Id to resume it")
	}
	if s.drops > s.c.retries {
		return fmt.Errorf("exec %s: stream lost %d times in a row; resume it later with ExecEvents after seq %d", s.execID, s.drops, s.last)
	}
	if s.drops > 0 {
		if err := s.c.sleep(s.ctx, s.c.backoff(s.drops-1)); err != nil {
			return err
		}
	}
	return s.resume()
}

// resume opens the events of the exec after s.last.
func (s *ExecStream) resume() error {
	h := http.Header{"Accept": {"text/event-stream"}}
	if s.last > 0 {
		h.Set("Last-Event-ID", strconv.FormatInt(s.last, 10))
	}
	resp, err := s.c.send(s.ctx, call{
		method: http.MethodGet, path: execPath(s.boxID, s.execID) + "/events",
		header: h, idempotent: true,
	})
	if err != nil {
		return err
	}
	if !s.attach(resp.Body) {
		return errStreamClosed
	}
	return nil
}

// attach makes body the stream's connection, unless the stream is closed.
func (s *ExecStream) attach(body io.ReadCloser) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		body.Close()
		return false
	}
	s.body, s.r = body, newSSEReader(body)
	return true
}

// detach closes the current connection.
func (s *ExecStream) detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil {
		s.body.Close()
	}
	s.body, s.r = nil, nil
}

func (s *ExecStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close ends the stream and frees its connection; a pending Next returns.
// The command goes on running in the box. Closing twice is harmless.
func (s *ExecStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.body != nil {
		return s.body.Close()
	}
	return nil
}

// decodeExecEvent reads the data of an exec event; the SSE id and name
// fill Seq and Kind when the data lacks them.
func decodeExecEvent(raw sseEvent) (api.ExecEvent, error) {
	var ev api.ExecEvent
	if err := json.Unmarshal(raw.data, &ev); err != nil {
		return ev, fmt.Errorf("bad event %q: %w", raw.id, err)
	}
	if ev.Seq == 0 && raw.id != "" {
		n, err := strconv.ParseInt(raw.id, 10, 64)
		if err != nil {
			return ev, fmt.Errorf("bad event id %q", raw.id)
		}
		ev.Seq = n
	}
	if ev.Kind == "" {
		ev.Kind = raw.event
	}
	return ev, nil
}

// WriteExecStdin streams r to the stdin of a running streaming exec
// (started with StdinOpen), then closes its stdin unless keepOpen. Not
// retried: stdin bytes must not arrive twice.
func (c *Client) WriteExecStdin(ctx context.Context, boxID, execID string, r io.Reader, keepOpen bool) error {
	q := url.Values{}
	if keepOpen {
		q.Set("close", "false")
	}
	return c.do(ctx, call{
		method: http.MethodPost, path: execPath(boxID, execID) + "/stdin", query: q,
		body: r, size: bodySize(r), contentType: "application/octet-stream",
	}, nil)
}

// SignalExec sends a signal (req.Signal: "TERM", "KILL", "INT", ...) to a
// running exec's process group.
func (c *Client) SignalExec(ctx context.Context, boxID, execID string, req api.SignalRequest) error {
	return c.do(ctx, call{
		method: http.MethodPost, path: execPath(boxID, execID) + "/signal",
		json: req,
	}, nil)
}
