package server

import (
	"net/http"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database is not answering")
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

func principalView(p store.Principal) api.Principal {
	return api.Principal{ID: p.ID, Name: p.Name, Kind: p.Kind, Admin: p.Admin, CreatedAt: p.CreatedAt}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	return writeJSON(w, http.StatusOK, api.Me{
		Principal: principalView(id.Principal), AuthPath: id.Path, TokenID: id.TokenID,
		TrustMappingID: id.MappingID, Subject: id.Subject, DisplayName: id.DisplayName,
	})
}

func (s *Server) limits(w http.ResponseWriter, r *http.Request) error {
	l := s.cfg.Boxes.Limits()
	owner := identity(r).Principal.ID
	quota, err := s.cfg.Boxes.Quota(r.Context(), owner)
	if err != nil {
		return err
	}
	usage, err := s.cfg.Boxes.Usage(r.Context(), owner)
	if err != nil {
		return err
	}
	kinds := make([]api.KindInfo, 0, len(l.Kinds))
	for _, k := range l.Kinds {
		kinds = append(kinds, api.KindInfo{Name: k.Name, DefaultTTLSeconds: k.DefaultTTLSeconds, Description: k.Description})
	}
	return writeJSON(w, http.StatusOK, api.Limits{
		CPUs: l.CPUs, MemoryMiB: l.MemoryMiB, DiskGiB: l.DiskGiB, TTLSeconds: l.TTLSeconds,
		ExecTimeoutSeconds: l.ExecTimeoutSeconds, FileSizeBytes: l.FileSizeBytes, ExecOutputBytes: l.ExecOutputBytes,
		Images: l.Images, Kinds: kinds, Quota: quota, Usage: usage, RateLimit: s.rateLimitView(),
	})
}

func requireAdmin(r *http.Request) error {
	if !identity(r).Principal.Admin {
		return errs.New(errs.PermissionDenied, "only an admin may do this")
	}
	return nil
}

func (s *Server) createPrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	var req api.CreatePrincipalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := box.ValidateName(req.Name); err != nil || req.Name == "" {
		return errs.New(errs.Invalid, "name must be 1-63 letters, digits, '.', '_' or '-'")
	}
	kind := req.Kind
	if kind == "" {
		kind = "user"
	}
	if kind != "user" && kind != "service" {
		return errs.New(errs.Invalid, "kind must be user or service, got %q", kind)
	}
	p := store.Principal{ID: auth.RandomID("prn-", 12), Name: req.Name, Kind: kind, Admin: req.Admin, CreatedAt: time.Now().UTC()}
	if err := s.cfg.Store.CreatePrincipal(r.Context(), p); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/principals/"+p.ID)
	return writeJSON(w, http.StatusCreated, principalView(p))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	var req api.CreateTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := s.cfg.Store.Principal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	secret, hash := auth.NewToken()
	t := store.Token{ID: auth.RandomID("tid-", 12), PrincipalID: p.ID, Hash: hash, Name: req.Name, CreatedAt: now}
	if req.ExpiresInSeconds < 0 {
		return errs.New(errs.Invalid, "expires_in_seconds must not be negative")
	}
	if req.ExpiresInSeconds > 0 {
		exp := now.Add(time.Duration(req.ExpiresInSeconds) * time.Second)
		t.ExpiresAt = &exp
	}
	if err := s.cfg.Store.CreateToken(r.Context(), t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.Token{ID: t.ID, PrincipalID: p.ID, Name: t.Name, Token: secret, CreatedAt: now, ExpiresAt: t.ExpiresAt})
}
