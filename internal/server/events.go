package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// boxEvents answers a box's lifecycle history as JSON, or, when the client
// accepts text/event-stream, as a live SSE stream that ends once the box
// has ended and every event was sent.
func (s *Server) boxEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := eventCursor(r)
	if err != nil {
		return err
	}
	owner, id := identity(r).Principal.ID, r.PathValue("id")
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		evs, _, err := s.cfg.Boxes.History(r.Context(), owner, id, after, 1000)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, api.BoxEventList{Items: evs})
	}
	// Check access before the stream starts, so errors are problems.
	if _, _, err := s.cfg.Boxes.History(r.Context(), owner, id, after, 1); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		changed := s.cfg.Boxes.EventsChanged()
		evs, ended, err := s.cfg.Boxes.History(r.Context(), owner, id, after, 1000)
		if err != nil {
			return nil // the stream has started; the client sees it end
		}
		for _, e := range evs {
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data); err != nil {
				return nil
			}
			after = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		if ended && len(evs) == 0 {
			return nil
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-changed:
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		}
	}
}

func eventCursor(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if q := r.URL.Query().Get("after"); q != "" {
		v = q
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.New(errs.Invalid, "after / Last-Event-ID must be an event seq, got %q", v)
	}
	return n, nil
}
