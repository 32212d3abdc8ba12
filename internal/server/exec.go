package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/PostHog/hogland/api"
)

func (s *Server) exec(w http.ResponseWriter, r *http.Request) error {
	var req api.ExecRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.cfg.Boxes.Exec(r.Context(), identity(r).Principal.ID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// execStream starts a command and streams its output as server-sent
// events. The X-Exec-Id header names the exec, so a client that loses the
// stream can resume it with execEvents and Last-Event-ID.
func (s *Server) execStream(w http.ResponseWriter, r *http.Request) error {
	var req api.ExecRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	owner, id := identity(r).Principal.ID, r.PathValue("id")
	execID, err := s.cfg.Boxes.StartExec(r.Context(), owner, id, req)
	if err != nil {
		return err
	}
	w.Header().Set("X-Exec-Id", execID)
	w.Header().Set("Location", "/v1/hogboxes/"+id+"/execs/"+execID+"/events")
	return s.streamEvents(w, r, owner, id, execID, 0)
}

// execEvents resumes an exec's event stream after Last-Event-ID (or
// ?after=N).
func (s *Server) execEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := eventCursor(r)
	if err != nil {
		return err
	}
	return s.streamEvents(w, r, identity(r).Principal.ID, r.PathValue("id"), r.PathValue("exec_id"), after)
}

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, owner, id, execID string, after int64) error {
	body, err := s.cfg.Boxes.Events(r.Context(), owner, id, execID, after)
	if err != nil {
		return err
	}
	defer body.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return copyFlushing(w, body)
}

// copyFlushing copies src to w, flushing after every read so that events
// reach the client as they happen.
func copyFlushing(w http.ResponseWriter, src io.Reader) error {
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client went away
			}
			if ferr := rc.Flush(); ferr != nil {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// execStdin streams the raw body to a running exec's stdin; ?close=false
// keeps stdin open for more (the exec must have been started with
// stdin_open).
func (s *Server) execStdin(w http.ResponseWriter, r *http.Request) error {
	closeStdin, err := boolParam(r.URL.Query(), "close", true)
	if err != nil {
		return err
	}
	if err := s.cfg.Boxes.ExecStdin(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.PathValue("exec_id"), r.Body, !closeStdin); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// execSignal sends a signal to a running exec's process group.
func (s *Server) execSignal(w http.ResponseWriter, r *http.Request) error {
	var req api.SignalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.cfg.Boxes.ExecSignal(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.PathValue("exec_id"), req.Signal); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
