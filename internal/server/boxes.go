package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
)

var boxStatuses = []string{api.StatusCreating, api.StatusRunning, api.StatusPaused, api.StatusStopped, api.StatusFailed}

func (s *Server) createBox(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateBoxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.cfg.Boxes.Create(r.Context(), identity(r).Principal.ID, req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/hogboxes/"+res.Box.ID)
	status := http.StatusCreated
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	return writeJSON(w, status, res.Box)
}

func (s *Server) listBoxes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o := box.ListOptions{Limit: 50, Cursor: q.Get("cursor"), Tags: q["tag"]}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errs.New(errs.Invalid, "limit must be a whole number from 1 to 500, got %q", v)
		}
		o.Limit = n
	}
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			if !contains(boxStatuses, st) {
				return errs.New(errs.Invalid, "status %q is not one of %s", st, strings.Join(boxStatuses, ", "))
			}
			o.Status = append(o.Status, st)
		}
	}
	owner, err := listOwner(r, q.Get("owner")) // admins may list across principals (identity.go)
	if err != nil {
		return err
	}
	list, err := s.cfg.Boxes.List(r.Context(), owner, o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getBox(w http.ResponseWriter, r *http.Request) error {
	b, err := s.cfg.Boxes.Get(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (s *Server) updateBox(w http.ResponseWriter, r *http.Request) error {
	var req api.UpdateBoxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	b, err := s.cfg.Boxes.Update(r.Context(), identity(r).Principal.ID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (s *Server) deleteBox(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Boxes.Destroy(r.Context(), identity(r).Principal.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pauseBox(w http.ResponseWriter, r *http.Request) error {
	b, err := s.cfg.Boxes.Pause(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (s *Server) resumeBox(w http.ResponseWriter, r *http.Request) error {
	b, err := s.cfg.Boxes.Resume(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
