package server

import (
	"net/http"
	"strconv"

	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
)

// snapshotRoutes are the snapshot, alias and devbox routes.
func (s *Server) snapshotRoutes() []Route {
	routes := []Route{
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/snapshot", Create: true, handler: s.snapshotBox},
		{Method: "GET", Pattern: "/v1/snapshots", handler: s.listSnapshots},
		{Method: "GET", Pattern: "/v1/snapshots/{id}", handler: s.getSnapshot},
		{Method: "DELETE", Pattern: "/v1/snapshots/{id}", handler: s.deleteSnapshot},
		{Method: "PUT", Pattern: "/v1/snapshots/{id}/aliases/{alias}", handler: s.setAlias},
		{Method: "DELETE", Pattern: "/v1/snapshots/{id}/aliases/{alias}", handler: s.deleteAlias},
		{Method: "GET", Pattern: "/v1/snapshot-aliases", handler: s.listAliases},
		{Method: "POST", Pattern: "/v1/devboxes", Create: true, handler: s.createDevbox},
		{Method: "GET", Pattern: "/v1/devboxes", handler: s.listDevboxes},
		{Method: "GET", Pattern: "/v1/devboxes/{devbox}", handler: s.getDevbox},
		{Method: "PATCH", Pattern: "/v1/devboxes/{devbox}", handler: s.updateDevbox},
		{Method: "DELETE", Pattern: "/v1/devboxes/{devbox}", handler: s.deleteDevbox},
		{Method: "POST", Pattern: "/v1/devboxes/{devbox}/start", handler: s.startDevbox},
		{Method: "POST", Pattern: "/v1/devboxes/{devbox}/stop", handler: s.stopDevbox},
		{Method: "GET", Pattern: "/v1/devboxes/{devbox}/events", handler: s.devboxEvents},
		{Method: "POST", Pattern: "/v1/devboxes/{devbox}/exec", handler: s.execDevbox},
	}
	for _, m := range proxyMethods {
		// The devbox proxy checks the owner's credential itself (bearer
		// header or ?token=), like the box proxy.
		routes = append(routes, Route{Method: m, Pattern: "/v1/devboxes/{devbox}/proxy/{port}/{path...}", Public: true, handler: s.proxyDevbox})
	}
	return routes
}

func (s *Server) snapshotBox(w http.ResponseWriter, r *http.Request) error {
	sn, err := s.cfg.Boxes.Snapshot(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/snapshots/"+sn.ID)
	return writeJSON(w, http.StatusCreated, sn)
}

// pageParams reads ?limit= (1-500, default 50) and ?cursor=.
func pageParams(r *http.Request) (int, string, error) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return 0, "", errs.New(errs.Invalid, "limit must be a whole number from 1 to 500, got %q", v)
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.cfg.Boxes.ListSnapshots(r.Context(), identity(r).Principal.ID, box.SnapshotListOptions{
		Alias: q.Get("alias"), BoxID: q.Get("box_id"), Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getSnapshot(w http.ResponseWriter, r *http.Request) error {
	sn, err := s.cfg.Boxes.GetSnapshot(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sn)
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Boxes.DeleteSnapshot(r.Context(), identity(r).Principal.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setAlias(w http.ResponseWriter, r *http.Request) error {
	a, err := s.cfg.Boxes.SetAlias(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.PathValue("alias"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Boxes.DeleteAlias(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.PathValue("alias")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Boxes.ListAliases(r.Context(), identity(r).Principal.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}
