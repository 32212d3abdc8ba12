package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/auth/oidctest"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/store"
)

// idServer is a Server on a fresh store, with no runtime: enough for the
// identity endpoints, /v1/me, /v1/limits and box listing.
type idServer struct {
	t     *testing.T
	srv   *Server
	store *store.Store
	admin string // the admin's API token
}

type idOptions struct {
	limits       auth.RateLimits
	proxies      []string
	githubIssuer string
}

func newIDServer(t *testing.T, o idOptions) *idServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hogland.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ts := &auth.Tailscale{}
	for _, p := range o.proxies {
		ts.Proxies = append(ts.Proxies, netip.MustParsePrefix(p))
	}
	a := &auth.Authenticator{Store: st, OIDC: auth.NewOIDC(auth.OIDCConfig{GitHubIssuer: o.githubIssuer}), Tailscale: ts}
	srv := New(Config{
		Store: st, Auth: a, Boxes: box.New(box.Config{Store: st, Limits: box.DefaultLimits()}),
		Limiter: auth.NewRateLimiter(o.limits, nil), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(srv.Close)
	s := &idServer{t: t, srv: srv, store: st}
	p := store.Principal{ID: auth.RandomID("prn-", 12), Name: "admin", Kind: "user", Admin: true, CreatedAt: time.Now().UTC()}
	if err := st.CreatePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	secret, hash := auth.NewToken()
	if err := st.CreateToken(ctx, store.Token{ID: "tid-admin", PrincipalID: p.ID, Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	s.admin = secret
	return s
}

type req struct {
	method, path string
	token        string
	body         any
	remote       string
	header       map[string]string
}

func (s *idServer) do(r req) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			s.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	hr.RemoteAddr = "192.0.2.10:4000"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, hr)
	return w
}

// must sends r and decodes the answer into out, failing unless the status
// is want.
func (s *idServer) must(r req, want int, out any) {
	s.t.Helper()
	w := s.do(r)
	if w.Code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", r.method, r.path, w.Code, want, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", r.method, r.path, w.Body, err)
		}
	}
}

// problem sends r, checks it fails with want, and returns the problem.
func (s *idServer) problem(r req, want int) api.Problem {
	s.t.Helper()
	w := s.do(r)
	var p api.Problem
	if w.Code != want || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != want || p.Detail == "" {
		s.t.Fatalf("%s %s: status %d, want a %d problem: %s", r.method, r.path, w.Code, want, w.Body)
	}
	return p
}

// principal makes a principal with a token through the API.
func (s *idServer) principal(name string) (api.Principal, string) {
	s.t.Helper()
	var p api.Principal
	s.must(req{method: "POST", path: "/v1/principals", token: s.admin, body: api.CreatePrincipalRequest{Name: name}}, 201, &p)
	var tok api.Token
	s.must(req{method: "POST", path: "/v1/principals/" + p.ID + "/tokens", token: s.admin, body: api.CreateTokenRequest{Name: "t"}}, 201, &tok)
	return p, tok.Token
}

func TestAdminOnlyIdentityEndpoints(t *testing.T) {
	s := newIDServer(t, idOptions{})
	bob, bobTok := s.principal("bob")
	var me api.Me
	s.must(req{method: "GET", path: "/v1/me", token: s.admin}, 200, &me)
	adminID := me.Principal.ID
	for _, r := range []req{
		{method: "GET", path: "/v1/principals"},
		{method: "GET", path: "/v1/principals/" + adminID},
		{method: "PATCH", path: "/v1/principals/" + bob.ID, body: api.UpdatePrincipalRequest{}},
		{method: "GET", path: "/v1/principals/" + adminID + "/tokens"},
		{method: "DELETE", path: "/v1/principals/" + adminID + "/tokens/tid-admin"},
		{method: "POST", path: "/v1/trust-mappings", body: api.CreateTrustMappingRequest{Kind: "tailscale", Match: map[string]string{"login": "*"}, Provision: true}},
		{method: "GET", path: "/v1/trust-mappings"},
		{method: "GET", path: "/v1/audit"},
		{method: "GET", path: "/v1/hogboxes?owner=*"},
		{method: "GET", path: "/v1/hogboxes?owner=" + adminID},
	} {
		r.token = bobTok
		s.problem(r, 403)
	}
	// A principal may look at itself and its own tokens.
	var d api.PrincipalDetail
	s.must(req{method: "GET", path: "/v1/principals/" + bob.ID, token: bobTok}, 200, &d)
	if d.Principal.ID != bob.ID || d.Quota.MaxBoxes == 0 {
		t.Errorf("self detail: %+v", d)
	}
	s.must(req{method: "GET", path: "/v1/hogboxes?owner=" + bob.ID, token: bobTok}, 200, nil)
	s.must(req{method: "GET", path: "/v1/hogboxes?owner=*", token: s.admin}, 200, nil)
}

func TestTokensListAndRevoke(t *testing.T) {
	s := newIDServer(t, idOptions{})
	bob, bobTok := s.principal("bob")
	var second api.Token
	s.must(req{method: "POST", path: "/v1/principals/" + bob.ID + "/tokens", token: s.admin, body: api.CreateTokenRequest{Name: "ci", ExpiresInSeconds: 3600}}, 201, &second)
	s.must(req{method: "GET", path: "/v1/me", token: bobTok}, 200, nil) // sets last_used_at
	var list api.TokenList
	s.must(req{method: "GET", path: "/v1/principals/" + bob.ID + "/tokens", token: bobTok}, 200, &list)
	if len(list.Items) != 2 || list.Items[0].LastUsedAt == nil || list.Items[1].ExpiresAt == nil || list.Items[1].Name != "ci" {
		t.Fatalf("tokens: %+v", list.Items)
	}
	for _, tok := range list.Items {
		if tok.Token != "" {
			t.Errorf("token list shows a secret")
		}
	}
	// Revoked: refused from the very next call.
	s.must(req{method: "DELETE", path: "/v1/principals/" + bob.ID + "/tokens/" + second.ID, token: s.admin}, 204, nil)
	p := s.problem(req{method: "GET", path: "/v1/me", token: second.Token}, 401)
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("detail %q", p.Detail)
	}
	s.must(req{method: "DELETE", path: "/v1/principals/" + bob.ID + "/tokens/" + second.ID, token: s.admin}, 204, nil)
	s.problem(req{method: "DELETE", path: "/v1/principals/" + bob.ID + "/tokens/tid-admin", token: s.admin}, 404)
	// A principal may revoke its own token, even the one it calls with.
	s.must(req{method: "DELETE", path: "/v1/principals/" + bob.ID + "/tokens/" + list.Items[0].ID, token: bobTok}, 204, nil)
	s.problem(req{method: "GET", path: "/v1/me", token: bobTok}, 401)
}

func TestTrustMappingsAPI(t *testing.T) {
	s := newIDServer(t, idOptions{})
	bob, _ := s.principal("bob")
	s.problem(req{method: "POST", path: "/v1/trust-mappings", token: s.admin,
		body: api.CreateTrustMappingRequest{Kind: "github", Match: map[string]string{"repository": "*"}, PrincipalID: bob.ID}}, 400)
	s.problem(req{method: "POST", path: "/v1/trust-mappings", token: s.admin,
		body: api.CreateTrustMappingRequest{Kind: "github", Match: map[string]string{"repository": "PostHog/x"}, PrincipalID: "prn-nope"}}, 400)
	var m api.TrustMapping
	w := s.do(req{method: "POST", path: "/v1/trust-mappings", token: s.admin,
		body: api.CreateTrustMappingRequest{Kind: "github", Match: map[string]string{"repository": "PostHog/hogland", "ref": "refs/heads/main"}, PrincipalID: bob.ID}})
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &m) != nil {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if m.Issuer != auth.DefaultGitHubIssuer || w.Header().Get("Location") != "/v1/trust-mappings/"+m.ID || m.PrincipalID != bob.ID {
		t.Errorf("created %+v at %s", m, w.Header().Get("Location"))
	}
	// The same issuer cannot also serve service accounts.
	s.problem(req{method: "POST", path: "/v1/trust-mappings", token: s.admin,
		body: api.CreateTrustMappingRequest{Kind: "k8s_sa", Issuer: auth.DefaultGitHubIssuer, Match: map[string]string{"namespace": "a", "service_account": "b"}, PrincipalID: bob.ID}}, 409)
	var list api.TrustMappingList
	s.must(req{method: "GET", path: "/v1/trust-mappings", token: s.admin}, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Match["ref"] != "refs/heads/main" {
		t.Errorf("list: %+v", list)
	}
	s.must(req{method: "GET", path: "/v1/trust-mappings/" + m.ID, token: s.admin}, 200, nil)
	s.must(req{method: "DELETE", path: "/v1/trust-mappings/" + m.ID, token: s.admin}, 204, nil)
	s.problem(req{method: "GET", path: "/v1/trust-mappings/" + m.ID, token: s.admin}, 404)
}

func TestQuotaOverridesAPI(t *testing.T) {
	s := newIDServer(t, idOptions{})
	bob, bobTok := s.principal("bob")
	one, zero := int64(1), int64(0)
	var d api.PrincipalDetail
	s.must(req{method: "PATCH", path: "/v1/principals/" + bob.ID, token: s.admin,
		body: api.UpdatePrincipalRequest{Quota: &api.QuotaOverrides{MaxBoxes: &one, MaxSnapshotBytes: &zero}}}, 200, &d)
	def := box.DefaultLimits().Quota
	if d.Quota.MaxBoxes != 1 || d.Quota.MaxSnapshotBytes != 0 || d.Quota.MaxCPUs != def.MaxCPUs || *d.QuotaOverrides.MaxBoxes != 1 || d.QuotaOverrides.MaxCPUs != nil {
		t.Errorf("detail: %+v", d)
	}
	var l api.Limits
	s.must(req{method: "GET", path: "/v1/limits", token: bobTok}, 200, &l)
	if l.Quota.MaxBoxes != 1 || l.Quota.MaxMemoryMiB != def.MaxMemoryMiB || l.RateLimit.RequestsPerSecond != 0 {
		t.Errorf("limits: %+v", l)
	}
	s.problem(req{method: "PATCH", path: "/v1/principals/" + bob.ID, token: s.admin, body: map[string]any{"quota": map[string]any{"max_boxes": -1}}}, 400)
	s.problem(req{method: "PATCH", path: "/v1/principals/" + bob.ID, token: s.admin, body: map[string]any{"quota": map[string]any{"max_gpus": 1}}}, 400)
	s.problem(req{method: "PATCH", path: "/v1/principals/prn-nope", token: s.admin, body: api.UpdatePrincipalRequest{}}, 404)
	// {} clears every override.
	s.must(req{method: "PATCH", path: "/v1/principals/" + bob.ID, token: s.admin, body: map[string]any{"quota": map[string]any{}}}, 200, &d)
	if d.Quota != def {
		t.Errorf("after clearing: %+v, want %+v", d.Quota, def)
	}
	var ps api.PrincipalList
	s.must(req{method: "GET", path: "/v1/principals", token: s.admin}, 200, &ps)
	if len(ps.Items) != 2 {
		t.Errorf("principals: %+v", ps)
	}
}

func TestRateLimit429(t *testing.T) {
	s := newIDServer(t, idOptions{limits: auth.RateLimits{PerSecond: 1, Burst: 3}})
	_, bobTok := s.principal("bob")
	for i := 0; i < 3; i++ {
		s.must(req{method: "GET", path: "/v1/me", token: bobTok}, 200, nil)
	}
	w := s.do(req{method: "GET", path: "/v1/me", token: bobTok})
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "rate-limited") {
		t.Fatalf("over the limit: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// The admin has buckets of its own.
	s.must(req{method: "GET", path: "/v1/me", token: s.admin}, 200, nil)
	// Creates have a bucket of their own, on top.
	s = newIDServer(t, idOptions{limits: auth.RateLimits{CreatePerSecond: 0.001, CreateBurst: 1}})
	s.do(req{method: "POST", path: "/v1/hogboxes", token: s.admin, body: map[string]any{"kind": "nope"}})
	w = s.do(req{method: "POST", path: "/v1/hogboxes", token: s.admin, body: map[string]any{"kind": "nope"}})
	if w.Code != 429 || !strings.Contains(w.Body.String(), "creates per second") {
		t.Fatalf("second create: %d %s", w.Code, w.Body)
	}
	if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
}

func TestTailscaleHeadersOnlyFromTrustedProxy(t *testing.T) {
	s := newIDServer(t, idOptions{proxies: []string{"10.0.0.1/32"}})
	bob, _ := s.principal("bob")
	s.must(req{method: "POST", path: "/v1/trust-mappings", token: s.admin,
		body: api.CreateTrustMappingRequest{Kind: "tailscale", Match: map[string]string{"login": "bob@example.com"}, PrincipalID: bob.ID}}, 201, nil)
	hdr := map[string]string{auth.HeaderTailscaleLogin: "bob@example.com", auth.HeaderTailscaleName: "Bob"}
	var me api.Me
	s.must(req{method: "GET", path: "/v1/me", remote: "10.0.0.1:3000", header: hdr}, 200, &me)
	if me.Principal.ID != bob.ID || me.AuthPath != "tailscale" || me.Subject != "bob@example.com" || me.DisplayName != "Bob" || me.TrustMappingID == "" {
		t.Errorf("me via tailscale: %+v", me)
	}
	s.problem(req{method: "GET", path: "/v1/me", remote: "10.0.0.2:3000", header: hdr}, 401)
	// From an untrusted peer the headers do not change who a token is.
	s.must(req{method: "GET", path: "/v1/me", token: s.admin, remote: "10.0.0.2:3000", header: hdr}, 200, &me)
	if me.AuthPath != "api_token" || !me.Principal.Admin {
		t.Errorf("me: %+v", me)
	}
}

func TestMeAndAuditForOIDC(t *testing.T) {
	cluster := oidctest.New(t)
	s := newIDServer(t, idOptions{})
	svc, _ := s.principal("django")
	var m api.TrustMapping
	s.must(req{method: "POST", path: "/v1/trust-mappings", token: s.admin, body: api.CreateTrustMappingRequest{
		Kind: "k8s_sa", Issuer: cluster.URL, Match: map[string]string{"namespace": "posthog", "service_account": "django"}, PrincipalID: svc.ID}}, 201, &m)
	tok := cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))
	var me api.Me
	s.must(req{method: "GET", path: "/v1/me", token: tok}, 200, &me)
	if me.Principal.ID != svc.ID || me.AuthPath != "k8s_sa" || me.TrustMappingID != m.ID || me.Subject != "system:serviceaccount:posthog:django" {
		t.Errorf("me: %+v", me)
	}
	// A call that changes something is audited with the auth path and the
	// subject; GETs are not.
	s.problem(req{method: "POST", path: "/v1/hogboxes/box-000000000000/pause", token: tok}, 404)
	var log api.AuditList
	s.must(req{method: "GET", path: "/v1/audit?principal=" + svc.ID, token: s.admin}, 200, &log)
	if len(log.Items) != 1 {
		t.Fatalf("audit: %+v", log.Items)
	}
	e := log.Items[0]
	if e.AuthPath != "k8s_sa" || e.Subject != me.Subject || e.Route != "/v1/hogboxes/{id}/pause" || e.BoxID != "box-000000000000" || e.Status != 404 || e.Method != "POST" || e.RequestID == "" {
		t.Errorf("entry: %+v", e)
	}
	// The admin's own calls: principal and token made, mapping made, with
	// their targets.
	s.must(req{method: "GET", path: "/v1/audit?limit=2", token: s.admin}, 200, &log)
	if len(log.Items) != 2 || log.NextAfter == 0 || log.Items[0].Route != "/v1/principals" || log.Items[0].TargetID != svc.ID {
		t.Fatalf("first page: %+v", log)
	}
	if it := log.Items[1]; it.Route != "/v1/principals/{id}/tokens" || it.TargetID != svc.ID || it.AuthPath != "api_token" || it.Subject != "tid-admin" {
		t.Errorf("token mint entry: %+v", it)
	}
	next := log.NextAfter
	s.must(req{method: "GET", path: "/v1/audit?after=" + strconv.FormatInt(next, 10), token: s.admin}, 200, &log)
	if len(log.Items) != 2 || log.Items[0].Route != "/v1/trust-mappings" || log.Items[0].TargetID != m.ID {
		t.Errorf("second page: %+v", log.Items)
	}
	s.problem(req{method: "GET", path: "/v1/audit?since=yesterday", token: s.admin}, 400)
}

// TestCallerGone: a request whose caller went away is neither an error in
// the log nor in the error metric, and the access log shows 499.
func TestCallerGone(t *testing.T) {
	s := newIDServer(t, idOptions{})
	var logs bytes.Buffer
	s.srv.log = slog.New(slog.NewTextHandler(&logs, nil))
	m := metrics.New(s.store.CountByStatus)
	s.srv.cfg.Metrics = m
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hr := httptest.NewRequest("GET", "/v1/hogboxes", nil).WithContext(ctx)
	hr.Header.Set("Authorization", "Bearer "+s.admin)
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, hr)
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "status=499") {
		t.Errorf("log:\n%s", logs.String())
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "hogland_http_errors_total" && len(mf.GetMetric()) > 0 {
			t.Errorf("errors counted for a caller that went away: %v", mf.GetMetric())
		}
	}
	// The same request with its caller still there is answered.
	s.must(req{method: "GET", path: "/v1/hogboxes", token: s.admin}, 200, nil)
}
