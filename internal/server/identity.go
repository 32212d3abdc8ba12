package server

import (
	"net/http"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// identityRoutes are the admin side of identity: principals and their
// quotas, API tokens, trust mappings and the audit log.
func (s *Server) identityRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/principals", handler: s.listPrincipals},
		{Method: "GET", Pattern: "/v1/principals/{id}", handler: s.getPrincipal},
		{Method: "PATCH", Pattern: "/v1/principals/{id}", handler: s.updatePrincipal},
		{Method: "GET", Pattern: "/v1/principals/{id}/tokens", handler: s.listTokens},
		{Method: "DELETE", Pattern: "/v1/principals/{id}/tokens/{token_id}", handler: s.revokeToken},
		{Method: "POST", Pattern: "/v1/trust-mappings", handler: s.createTrustMapping},
		{Method: "GET", Pattern: "/v1/trust-mappings", handler: s.listTrustMappings},
		{Method: "GET", Pattern: "/v1/trust-mappings/{id}", handler: s.getTrustMapping},
		{Method: "DELETE", Pattern: "/v1/trust-mappings/{id}", handler: s.deleteTrustMapping},
		{Method: "GET", Pattern: "/v1/audit", handler: s.listAudit},
	}
}

// sanitizeIdentityHeaders drops Tailscale identity headers that do not
// come from a trusted proxy, before any route sees the request.
func (s *Server) sanitizeIdentityHeaders(r *http.Request) {
	var ts *auth.Tailscale
	if s.cfg.Auth != nil {
		ts = s.cfg.Auth.Tailscale
	}
	ts.Sanitize(r)
}

// selfOrAdmin lets a principal act on itself, and an admin on anyone.
func selfOrAdmin(r *http.Request, id string) error {
	if identity(r).Principal.ID == id {
		return nil
	}
	return requireAdmin(r)
}

// listOwner is whose boxes a list shows: the caller's own, or, for an
// admin, another principal's (owner=prn-...) or everyone's (owner=*).
func listOwner(r *http.Request, owner string) (string, error) {
	me := identity(r).Principal
	if owner == "" || owner == me.ID {
		return me.ID, nil
	}
	if !me.Admin {
		return "", errs.New(errs.PermissionDenied, "only an admin may list another principal's boxes (owner=%s)", owner)
	}
	if owner == "*" {
		return "", nil // every owner
	}
	return owner, nil
}

func (s *Server) rateLimitView() api.RateLimit {
	l := s.cfg.Limiter.Limits()
	return api.RateLimit{RequestsPerSecond: l.PerSecond, RequestsBurst: l.Burst, CreatesPerSecond: l.CreatePerSecond, CreatesBurst: l.CreateBurst}
}

func (s *Server) listPrincipals(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	ps, err := s.cfg.Store.ListPrincipals(r.Context())
	if err != nil {
		return err
	}
	out := api.PrincipalList{Items: make([]api.Principal, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, principalView(p))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := selfOrAdmin(r, r.PathValue("id")); err != nil {
		return err
	}
	d, err := s.principalDetail(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) principalDetail(r *http.Request, id string) (api.PrincipalDetail, error) {
	ctx := r.Context()
	p, err := s.cfg.Store.Principal(ctx, id)
	if err != nil {
		return api.PrincipalDetail{}, err
	}
	o, err := s.cfg.Store.QuotaOverrides(ctx, id)
	if err != nil {
		return api.PrincipalDetail{}, err
	}
	q := s.cfg.Boxes.QuotaWith(o) // from the same read as the overrides shown beside it
	u, err := s.cfg.Boxes.Usage(ctx, id)
	if err != nil {
		return api.PrincipalDetail{}, err
	}
	return api.PrincipalDetail{
		Principal: principalView(p), Quota: q, Usage: u,
		QuotaOverrides: api.QuotaOverrides{MaxBoxes: o.MaxBoxes, MaxCPUs: o.MaxCPUs, MaxMemoryMiB: o.MaxMemoryMiB, MaxSnapshotBytes: o.MaxSnapshotBytes},
	}, nil
}

func (s *Server) updatePrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	var req api.UpdatePrincipalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Principal(r.Context(), id); err != nil {
		return err
	}
	if q := req.Quota; q != nil {
		for _, c := range []struct {
			name string
			v    *int64
		}{{"max_boxes", q.MaxBoxes}, {"max_cpus", q.MaxCPUs}, {"max_memory_mib", q.MaxMemoryMiB}, {"max_snapshot_bytes", q.MaxSnapshotBytes}} {
			if c.v != nil && *c.v < 0 {
				return errs.New(errs.Invalid, "quota.%s must not be negative, got %d", c.name, *c.v)
			}
		}
		o := store.QuotaOverrides{MaxBoxes: q.MaxBoxes, MaxCPUs: q.MaxCPUs, MaxMemoryMiB: q.MaxMemoryMiB, MaxSnapshotBytes: q.MaxSnapshotBytes}
		if err := s.cfg.Store.SetQuotaOverrides(r.Context(), id, o); err != nil {
			return err
		}
	}
	d, err := s.principalDetail(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func tokenView(t store.Token) api.Token {
	return api.Token{ID: t.ID, PrincipalID: t.PrincipalID, Name: t.Name, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := selfOrAdmin(r, id); err != nil {
		return err
	}
	if _, err := s.cfg.Store.Principal(r.Context(), id); err != nil {
		return err
	}
	ts, err := s.cfg.Store.Tokens(r.Context(), id)
	if err != nil {
		return err
	}
	out := api.TokenList{Items: make([]api.Token, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, tokenView(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := selfOrAdmin(r, id); err != nil {
		return err
	}
	if err := s.cfg.Store.RevokeToken(r.Context(), id, r.PathValue("token_id"), time.Now().UTC()); err != nil {
		return err
	}
	s.cfg.Auth.Forget() // refused from the next call, not after the cache's TTL
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func trustMappingView(m store.TrustMapping) api.TrustMapping {
	match := m.Match
	if match == nil {
		match = map[string]string{}
	}
	return api.TrustMapping{ID: m.ID, Kind: m.Kind, Issuer: m.Issuer, Match: match, PrincipalID: m.PrincipalID, Provision: m.Provision, CreatedAt: m.CreatedAt}
}

func (s *Server) createTrustMapping(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	var req api.CreateTrustMappingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	m := store.TrustMapping{
		ID: auth.RandomID("tm-", 12), Kind: req.Kind, Issuer: req.Issuer, Match: req.Match,
		PrincipalID: req.PrincipalID, Provision: req.Provision, CreatedAt: time.Now().UTC(),
	}
	var oidc *auth.OIDC
	if s.cfg.Auth != nil {
		oidc = s.cfg.Auth.OIDC
	}
	if err := auth.ValidateMapping(&m, oidc.GitHubIssuer()); err != nil {
		return err
	}
	if err := s.cfg.Store.CreateTrustMapping(r.Context(), m); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/trust-mappings/"+m.ID)
	return writeJSON(w, http.StatusCreated, trustMappingView(m))
}

func (s *Server) listTrustMappings(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	ms, err := s.cfg.Store.TrustMappings(r.Context())
	if err != nil {
		return err
	}
	out := api.TrustMappingList{Items: make([]api.TrustMapping, 0, len(ms))}
	for _, m := range ms {
		out.Items = append(out.Items, trustMappingView(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getTrustMapping(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	m, err := s.cfg.Store.TrustMapping(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, trustMappingView(m))
}

func (s *Server) deleteTrustMapping(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteTrustMapping(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
