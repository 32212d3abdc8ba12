// Package server is hogplane's HTTP edge: routing, authentication,
// request ids, problem-details errors, and the /v1 handlers.
package server

import (
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/store"
)

// Config holds a Server's dependencies.
type Config struct {
	Boxes *box.Manager
	Auth  *auth.Authenticator
	Store *store.Store
	Log   *slog.Logger
	// Version is reported by GET /healthz.
	Version string
	// Metrics, when set, are served on /metrics and fed by every request.
	Metrics *metrics.Metrics
	// Limiter, when set, rate-limits each principal's calls (429).
	Limiter *auth.RateLimiter
	// AuditRetention is how long audit entries are kept (default 90 days).
	AuditRetention time.Duration
}

// Server serves the /v1 API.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []Route
	audit  *auditor // nil without a store (audit.go)
}

// Route is one method on one path pattern (net/http ServeMux syntax).
type Route struct {
	Method  string
	Pattern string
	// Public routes need no credential.
	Public bool
	// Create routes also count against the principal's create rate limit.
	Create bool
	// QueryToken routes also take the credential as ?token=: browsers
	// cannot set headers on a WebSocket.
	QueryToken bool
	handler    func(w http.ResponseWriter, r *http.Request) error
}

// New makes a Server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Log, mux: http.NewServeMux()}
	s.routes = s.table()
	s.register()
	s.startAudit()
	return s
}

// Routes lists every route the server answers, for the contract test.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) table() []Route {
	routes := []Route{
		{Method: "GET", Pattern: "/healthz", Public: true, handler: s.health},
		{Method: "GET", Pattern: "/metrics", Public: true, handler: s.metrics},
		{Method: "GET", Pattern: "/v1/me", handler: s.me},
		{Method: "GET", Pattern: "/v1/limits", handler: s.limits},
		{Method: "POST", Pattern: "/v1/hogboxes", Create: true, handler: s.createBox},
		{Method: "GET", Pattern: "/v1/hogboxes", handler: s.listBoxes},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}", handler: s.getBox},
		{Method: "PATCH", Pattern: "/v1/hogboxes/{id}", handler: s.updateBox},
		{Method: "DELETE", Pattern: "/v1/hogboxes/{id}", handler: s.deleteBox},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/pause", handler: s.pauseBox},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/resume", handler: s.resumeBox},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/exec", handler: s.exec},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/exec/stream", handler: s.execStream},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/execs/{exec_id}/events", handler: s.execEvents},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/execs/{exec_id}/stdin", handler: s.execStdin},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/execs/{exec_id}/signal", handler: s.execSignal},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/events", handler: s.boxEvents},
		{Method: "PUT", Pattern: "/v1/hogboxes/{id}/files", handler: s.writeFile},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/files", handler: s.readFile},
		{Method: "PUT", Pattern: "/v1/hogboxes/{id}/archive", handler: s.writeArchive},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/archive", handler: s.readArchive},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/pty", QueryToken: true, handler: s.pty},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/ports/{port}/tunnel", QueryToken: true, handler: s.tunnel},
		{Method: "POST", Pattern: "/v1/principals", handler: s.createPrincipal},
		{Method: "POST", Pattern: "/v1/principals/{id}/tokens", handler: s.createToken},
		{Method: "POST", Pattern: "/v1/hogboxes/{id}/proxy-tokens", handler: s.createPreviewToken},
		{Method: "GET", Pattern: "/v1/hogboxes/{id}/proxy-tokens", handler: s.listPreviewTokens},
		{Method: "DELETE", Pattern: "/v1/hogboxes/{id}/proxy-tokens/{token_id}", handler: s.revokePreviewToken},
	}
	routes = append(routes, s.identityRoutes()...) // principals, tokens, trust mappings, audit (identity.go)
	routes = append(routes, s.snapshotRoutes()...) // snapshots, aliases, devboxes (snapshots.go)
	for _, m := range proxyMethods {
		// The proxy checks credentials itself: public boxes and preview
		// tokens need no API token.
		routes = append(routes, Route{Method: m, Pattern: "/v1/hogboxes/{id}/proxy/{port}/{path...}", Public: true, handler: s.proxy})
	}
	return routes
}

// register mounts each path once and dispatches on the method, so that an
// unknown method answers 405 with problem details and an Allow header.
func (s *Server) register() {
	byPath := map[string]map[string]Route{}
	var order []string
	for _, rt := range s.routes {
		if byPath[rt.Pattern] == nil {
			byPath[rt.Pattern] = map[string]Route{}
			order = append(order, rt.Pattern)
		}
		byPath[rt.Pattern][rt.Method] = rt
	}
	for _, p := range order {
		methods := byPath[p]
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		sort.Strings(allow)
		s.mux.Handle(p, s.dispatch(methods, strings.Join(allow, ", ")))
	}
	s.mux.Handle("/", s.wrap(Route{Public: true, handler: func(w http.ResponseWriter, r *http.Request) error {
		return notFoundRoute(r)
	}}))
}

func (s *Server) dispatch(methods map[string]Route, allow string) http.Handler {
	wrapped := map[string]http.Handler{}
	for m, rt := range methods {
		wrapped[m] = s.wrap(rt)
	}
	notAllowed := s.wrap(Route{Public: true, handler: func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return methodNotAllowed(r, allow)
	}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := wrapped[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		notAllowed.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.sanitizeIdentityHeaders(r) // forged tailnet identities go no further (identity.go)
	s.mux.ServeHTTP(w, r)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Metrics == nil {
		return errs.New(errs.NotFound, "metrics are not enabled")
	}
	s.cfg.Metrics.Handler().ServeHTTP(w, r)
	return nil
}
