package panion

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
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
// written to the process's stdin, which is then closed unless close=false.
func (s *Server) execStdin(w http.ResponseWriter, r *http.Request) {
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
	defer interruptBodyOnDone(w, e.proc.Done())()
	_, err = e.proc.stdin.write(r.Context(), r.Body, closeAfter)
	select {
	case <-e.proc.Done():
		if err != nil {
			s.fail(w, r, errs.New(errs.Conflict, "exec %s has exited; its stdin is closed", e.id))
			return
		}
	default:
	}
	switch {
	case errors.Is(err, errStdinClosed):
		s.fail(w, r, errs.New(errs.Conflict, "stdin of exec %s is closed", e.id))
	case err != nil:
		s.fail(w, r, errs.Wrap(errs.Invalid, err, "reading the request body: %v", err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// interruptBodyOnDone makes a blocked read of the request body fail once
// done is closed. Call the returned func before the handler returns; after
// it, the connection's deadline is left alone.
func interruptBodyOnDone(w http.ResponseWriter, done <-chan struct{}) (stop func()) {
	var mu sync.Mutex
	over := false
	quit := make(chan struct{})
	rc := http.NewResponseController(w)
	go func() {
		select {
		case <-done:
			mu.Lock()
			if !over {
				_ = rc.SetReadDeadline(time.Now())
			}
			mu.Unlock()
		case <-quit:
		}
	}()
	return func() {
		mu.Lock()
		over = true
		mu.Unlock()
		close(quit)
	}
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
