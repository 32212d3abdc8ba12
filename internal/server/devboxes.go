package server

import (
	"net/http"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
)

func (s *Server) createDevbox(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateDevboxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.cfg.Boxes.CreateDevbox(r.Context(), identity(r).Principal.ID, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/devboxes/"+d.ID)
	return writeJSON(w, http.StatusCreated, d)
}

func (s *Server) listDevboxes(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Boxes.ListDevboxes(r.Context(), identity(r).Principal.ID, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getDevbox(w http.ResponseWriter, r *http.Request) error {
	d, err := s.cfg.Boxes.GetDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) updateDevbox(w http.ResponseWriter, r *http.Request) error {
	var req api.UpdateDevboxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.cfg.Boxes.UpdateDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) deleteDevbox(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Boxes.DeleteDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) startDevbox(w http.ResponseWriter, r *http.Request) error {
	d, err := s.cfg.Boxes.StartDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) stopDevbox(w http.ResponseWriter, r *http.Request) error {
	d, err := s.cfg.Boxes.StopDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) devboxEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := eventCursor(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Boxes.DevboxHistory(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"), after, 1000)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) execDevbox(w http.ResponseWriter, r *http.Request) error {
	var req api.ExecRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.cfg.Boxes.ExecDevbox(r.Context(), identity(r).Principal.ID, r.PathValue("devbox"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// proxyDevbox forwards a request to a port of a devbox's box, starting a
// stopped devbox first when it allows (auto_start). Only the owner's
// credential opens it.
func (s *Server) proxyDevbox(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	ref, portStr := r.PathValue("devbox"), r.PathValue("port")
	port, err := portParam(r)
	if err != nil {
		return err
	}
	ident, err := s.authenticate(r, true, false)
	if err != nil {
		return err
	}
	owner := ident.Principal.ID
	boxID, err := s.cfg.Boxes.DevboxBox(r.Context(), owner, ref)
	if err != nil {
		return err
	}
	return s.forward(w, r, forwardTo{owner: owner, box: boxID, port: port,
		prefix: "/v1/devboxes/" + ref + "/proxy/" + portStr, used: auth.Credential(r, true), start: start})
}
