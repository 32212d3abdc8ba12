package panion

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// execEvents serves GET /v1/execs/{id}/events?after=N: the kept events
// with seq > N (the Last-Event-ID header stands in for a missing after),
// then live ones, until the exit event. Comment lines keep an idle stream
// alive.
func (s *Server) execEvents(w http.ResponseWriter, r *http.Request) {
	e, err := s.execs.get(r.PathValue("id"), s.cfg.ExecRetention)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := afterParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	for {
		v := e.log.since(after)
		for _, f := range v.frames {
			if _, err := w.Write(f); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
		if len(v.frames) > 0 {
			after = v.last
			continue
		}
		if v.closed {
			return
		}
		select {
		case <-v.wake:
		case <-r.Context().Done():
			return
		case <-beat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func afterParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("after")
	if s == "" {
		s = r.Header.Get("Last-Event-ID")
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.New(errs.Invalid, "after must be a non-negative event seq, not %q", s)
	}
	return n, nil
}

// execStdin serves POST /v1/execs/{id}/stdin?close=BOOL: the body is
// written to the stdin of an exec started with keep_stdin_open, which is
// then closed unless close=false.
// When the process ends first, the answer is 409 at once, even while the
// body keeps coming.
func (s *Server) execStdin(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	defer drainBody(rc, r)
	e, err := s.execs.get(r.PathValue("id"), s.cfg.ExecRetention)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	closeAfter, err := boolParam(r, "close", true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if e.proc.stdin == nil {
		s.fail(w, r, errs.New(errs.Conflict, "exec %s has no open stdin: start it with keep_stdin_open", e.id))
		return
	}
	copied := make(chan error, 1)
	var fed atomic.Bool
	go func() {
		_, err := e.proc.stdin.write(r.Context(), r.Body, closeAfter, &fed)
		copied <- err
	}()
	select {
	case err = <-copied:
	case <-e.proc.Done():
		if fed.Load() {
			// Everything was written (and stdin closed, which may be
			// why the process ended): the write is done, not refused.
			err = <-copied
			break
		}
		select {
		case err = <-copied:
		default:
			s.fail(w, r, errs.New(errs.Conflict, "exec %s has exited; its stdin is closed", e.id))
			_ = rc.Flush()
			endCopy(rc, copied)
			return
		}
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, errStdinBroken):
		s.fail(w, r, errs.New(errs.Conflict, "exec %s no longer reads stdin: it exited or closed it", e.id))
	case errors.Is(err, errStdinClosed):
		select {
		case <-e.proc.Done():
			s.fail(w, r, errs.New(errs.Conflict, "exec %s has exited; its stdin is closed", e.id))
		default:
			s.fail(w, r, errs.New(errs.Conflict, "stdin of exec %s was already closed", e.id))
		}
	default:
		s.fail(w, r, errs.Wrap(errs.Invalid, err, "reading the request body: %v", err))
	}
}

// endCopy waits for a copy from the request body to end, breaking off a
// read that blocks for more than a second.
func endCopy(rc *http.ResponseController, copied <-chan error) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-copied:
	case <-t.C:
		_ = rc.SetReadDeadline(time.Now())
		<-copied
	}
}

// drainBody flushes the answer, then reads what is left of the request
// body for up to a second. A Go client still sending its body when the
// server closes the connection loses the answer (golang/go#51109), so the
// server keeps reading a while before it closes. Handlers that may answer
// before the body ends call it deferred, after EnableFullDuplex.
func drainBody(rc *http.ResponseController, r *http.Request) {
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, r.Body)
}

// boolParam reads a true/false query parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errs.New(errs.Invalid, "%s must be true or false, not %q", name, s)
	}
	return b, nil
}
