package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/auth/oidctest"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

func TestK8sServiceAccountTokens(t *testing.T) {
	ctx := context.Background()
	cluster := oidctest.New(t)
	other := oidctest.New(t) // an issuer no mapping names
	a := testAuth(t, OIDCConfig{})
	django := mkPrincipal(t, a, "django")
	workers := mkPrincipal(t, a, "workers")
	m := mkMapping(t, a, store.TrustMapping{Kind: KindK8sSA, Issuer: cluster.URL, PrincipalID: django.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "django"}})
	wild := mkMapping(t, a, store.TrustMapping{Kind: KindK8sSA, Issuer: cluster.URL, PrincipalID: workers.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "worker-*"}})

	id, err := a.Authenticate(ctx, cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django")))
	if err != nil {
		t.Fatal(err)
	}
	if id.Principal.ID != django.ID || id.Path != PathK8sSA || id.MappingID != m.ID || id.Subject != "system:serviceaccount:posthog:django" {
		t.Errorf("identity = %+v", id)
	}
	id, err = a.Authenticate(ctx, cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "worker-7")))
	if err != nil || id.Principal.ID != workers.ID || id.MappingID != wild.ID {
		t.Errorf("glob mapping: %+v, %v", id, err)
	}

	expired := oidctest.K8sClaims("hogland", "posthog", "django")
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	forged := cluster.SignWith(t, oidctest.NewKey(t, cluster.SigningKey().ID), oidctest.K8sClaims("hogland", "posthog", "django"))
	lying := oidctest.K8sClaims("hogland", "posthog", "django")
	lying["sub"] = "system:serviceaccount:kube-system:admin"
	for _, c := range []struct {
		name  string
		token string
		kind  errs.Kind
		says  []string
	}{
		{"api server audience", cluster.Token(t, oidctest.K8sClaims("https://kubernetes.default.svc", "posthog", "django")),
			errs.Unauthenticated, []string{"Kubernetes API server", "projected service-account token", `audience "hogland"`}},
		{"sts audience", cluster.Token(t, oidctest.K8sClaims("sts.amazonaws.com", "posthog", "django")),
			errs.Unauthenticated, []string{"AWS STS", "projected service-account token"}},
		{"other audience", cluster.Token(t, oidctest.K8sClaims("vault", "posthog", "django")),
			errs.Unauthenticated, []string{`"vault"`, `audience "hogland"`}},
		{"untrusted issuer", other.Token(t, oidctest.K8sClaims("hogland", "posthog", "django")),
			errs.Unauthenticated, []string{"not trusted", other.URL}},
		{"expired", cluster.Token(t, expired), errs.Unauthenticated, []string{"expired", "read the token file on every request"}},
		{"bad signature", forged, errs.Unauthenticated, []string{"signature does not verify"}},
		{"unmapped namespace", cluster.Token(t, oidctest.K8sClaims("hogland", "default", "django")),
			errs.PermissionDenied, []string{"default/django", "not mapped"}},
		{"unmapped service account", cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "web")),
			errs.PermissionDenied, []string{"posthog/web", "not mapped"}},
		{"subject disagrees", cluster.Token(t, lying), errs.Unauthenticated, []string{"disagrees"}},
		{"not a JWT", "eyJhbGciOi.garbage.x", errs.Unauthenticated, []string{"not a valid JWT"}},
		{"unsigned", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", errs.Unauthenticated, []string{"not a valid JWT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := a.Authenticate(ctx, c.token)
			wantErr(t, err, c.kind, c.says...)
			t.Log(err)
		})
	}
	// A token naming an issuer no mapping names never makes hogplane fetch
	// anything from it.
	if n := other.Discoveries.Load() + other.KeyFetches.Load(); n != 0 {
		t.Errorf("untrusted issuer was contacted %d times", n)
	}
	// A bad signature with a known key id does not refetch the keys.
	if n := cluster.KeyFetches.Load(); n != 1 {
		t.Errorf("key set fetched %d times, want 1", n)
	}
	if n := cluster.Discoveries.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want 1", n)
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	cluster := oidctest.New(t)
	a := testAuth(t, OIDCConfig{KeyRefreshEvery: time.Hour})
	p := mkPrincipal(t, a, "django")
	mkMapping(t, a, store.TrustMapping{Kind: KindK8sSA, Issuer: cluster.URL, PrincipalID: p.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "django"}})
	claims := oidctest.K8sClaims("hogland", "posthog", "django")
	old := cluster.Token(t, claims)
	if _, err := a.Authenticate(ctx, old); err != nil {
		t.Fatal(err)
	}
	cluster.Rotate(t)
	// A token signed with the new key: its key id is unknown, so the keys
	// are fetched again and it verifies.
	if id, err := a.Authenticate(ctx, cluster.Token(t, claims)); err != nil || id.Principal.ID != p.ID {
		t.Fatalf("after rotation: %+v, %v", id, err)
	}
	// The retired key is no longer published, so its tokens are refused.
	_, err := a.Authenticate(ctx, old)
	wantErr(t, err, errs.Unauthenticated, `key "key-1"`, "does not publish")

	// A flood of tokens with made-up key ids refetches the keys a bounded
	// number of times (a burst of 3, then once per KeyRefreshEvery).
	before := cluster.KeyFetches.Load()
	stranger := oidctest.NewKey(t, "stranger")
	for i := 0; i < 50; i++ {
		forged := cluster.SignWith(t, stranger.WithID(fmt.Sprintf("made-up-%d", i)), claims)
		_, err := a.Authenticate(ctx, forged)
		wantErr(t, err, errs.Unauthenticated)
	}
	if n := cluster.KeyFetches.Load() - before; n > 3 {
		t.Errorf("50 unknown key ids refetched the key set %d times", n)
	}
}

func TestIssuerDown(t *testing.T) {
	ctx := context.Background()
	a := testAuth(t, OIDCConfig{})
	cluster := oidctest.New(t)
	p := mkPrincipal(t, a, "django")
	mkMapping(t, a, store.TrustMapping{Kind: KindK8sSA, Issuer: "http://127.0.0.1:1", PrincipalID: p.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "django"}})
	// A token that claims the unreachable issuer: 503 with Retry-After,
	// not a 401 that would make a client drop a good token.
	claims := oidctest.K8sClaims("hogland", "posthog", "django")
	claims["iss"] = "http://127.0.0.1:1"
	_, err := a.Authenticate(ctx, cluster.Token(t, claims))
	wantErr(t, err, errs.Unavailable, "cannot discover OIDC issuer")
	var e *errs.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		t.Errorf("no Retry-After on %v", err)
	}
}

func TestGitHubActionsTokens(t *testing.T) {
	ctx := context.Background()
	gh := oidctest.New(t)
	a := testAuth(t, OIDCConfig{GitHubIssuer: gh.URL})
	deploy := mkPrincipal(t, a, "deploy")
	ci := mkPrincipal(t, a, "ci")
	prod := mkMapping(t, a, store.TrustMapping{Kind: KindGitHub, PrincipalID: deploy.ID,
		Match: map[string]string{"repository": "PostHog/hogland", "ref": "refs/heads/main", "environment": "production"}})
	glob := mkMapping(t, a, store.TrustMapping{Kind: KindGitHub, PrincipalID: ci.ID,
		Match: map[string]string{"repository": "PostHog/*", "ref": "refs/heads/*"}})
	if prod.Issuer != gh.URL {
		t.Errorf("github mapping issuer %q, want the configured %q", prod.Issuer, gh.URL)
	}
	for _, c := range []struct {
		name      string
		claims    map[string]any
		principal string
		mapping   string
	}{
		{"exact mapping wins over glob", oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/heads/main", map[string]string{"environment": "production"}), deploy.ID, prod.ID},
		{"glob repository", oidctest.GitHubClaims("hogland", "PostHog/posthog", "refs/heads/feature", nil), ci.ID, glob.ID},
		{"no environment claim", oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/heads/main", nil), ci.ID, glob.ID},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := a.Authenticate(ctx, gh.Token(t, c.claims))
			if err != nil {
				t.Fatal(err)
			}
			if id.Principal.ID != c.principal || id.MappingID != c.mapping || id.Path != PathGitHubOIDC {
				t.Errorf("identity = %+v", id)
			}
		})
	}
	for _, c := range []struct {
		name   string
		claims map[string]any
		kind   errs.Kind
		says   []string
	}{
		{"other owner", oidctest.GitHubClaims("hogland", "evil/hogland", "refs/heads/main", nil), errs.PermissionDenied, []string{"not mapped", "evil/hogland"}},
		{"tag ref", oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/tags/v1", nil), errs.PermissionDenied, []string{"not mapped"}},
		{"nested branch: * stops at /", oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/heads/a/b", nil), errs.PermissionDenied, []string{"not mapped"}},
		{"default audience", oidctest.GitHubClaims("https://github.com/PostHog", "PostHog/hogland", "refs/heads/main", nil), errs.Unauthenticated, []string{"core.getIDToken", `audience "hogland"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := a.Authenticate(ctx, gh.Token(t, c.claims))
			wantErr(t, err, c.kind, c.says...)
			t.Log(err)
		})
	}
}

func TestValidateMapping(t *testing.T) {
	for _, c := range []struct {
		name string
		m    store.TrustMapping
		ok   bool
	}{
		{"k8s", store.TrustMapping{Kind: KindK8sSA, Issuer: "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", PrincipalID: "p", Match: map[string]string{"namespace": "a", "service_account": "b"}}, true},
		{"k8s without issuer", store.TrustMapping{Kind: KindK8sSA, PrincipalID: "p", Match: map[string]string{"namespace": "a", "service_account": "b"}}, false},
		{"k8s without namespace", store.TrustMapping{Kind: KindK8sSA, Issuer: "https://x", PrincipalID: "p", Match: map[string]string{"service_account": "b"}}, false},
		{"k8s plain http", store.TrustMapping{Kind: KindK8sSA, Issuer: "http://example.com", PrincipalID: "p", Match: map[string]string{"namespace": "a", "service_account": "b"}}, false},
		{"k8s loopback http", store.TrustMapping{Kind: KindK8sSA, Issuer: "http://127.0.0.1:9000", PrincipalID: "p", Match: map[string]string{"namespace": "a", "service_account": "b"}}, true},
		{"unknown key", store.TrustMapping{Kind: KindK8sSA, Issuer: "https://x", PrincipalID: "p", Match: map[string]string{"namespace": "a", "service_account": "b", "pod": "c"}}, false},
		{"bad glob", store.TrustMapping{Kind: KindK8sSA, Issuer: "https://x", PrincipalID: "p", Match: map[string]string{"namespace": "[", "service_account": "b"}}, false},
		{"github repo", store.TrustMapping{Kind: KindGitHub, PrincipalID: "p", Match: map[string]string{"repository": "PostHog/*"}}, true},
		{"github owner", store.TrustMapping{Kind: KindGitHub, PrincipalID: "p", Match: map[string]string{"repository_owner": "PostHog"}}, true},
		{"github any repo", store.TrustMapping{Kind: KindGitHub, PrincipalID: "p", Match: map[string]string{"repository": "*"}}, false},
		{"github glob owner", store.TrustMapping{Kind: KindGitHub, PrincipalID: "p", Match: map[string]string{"repository": "*/hogland"}}, false},
		{"github ref only", store.TrustMapping{Kind: KindGitHub, PrincipalID: "p", Match: map[string]string{"ref": "refs/heads/main"}}, false},
		{"github provision", store.TrustMapping{Kind: KindGitHub, Provision: true, Match: map[string]string{"repository": "PostHog/x"}}, false},
		{"tailscale provision", store.TrustMapping{Kind: KindTailscale, Provision: true, Match: map[string]string{"login": "*@posthog.com"}}, true},
		{"tailscale both", store.TrustMapping{Kind: KindTailscale, Provision: true, PrincipalID: "p", Match: map[string]string{"login": "*"}}, false},
		{"tailscale issuer", store.TrustMapping{Kind: KindTailscale, Issuer: "https://x", PrincipalID: "p", Match: map[string]string{"login": "a"}}, false},
		{"no principal", store.TrustMapping{Kind: KindTailscale, Match: map[string]string{"login": "a"}}, false},
		{"unknown kind", store.TrustMapping{Kind: "saml", PrincipalID: "p"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateMapping(&c.m, DefaultGitHubIssuer)
			if (err == nil) != c.ok {
				t.Errorf("ValidateMapping = %v, want ok %v", err, c.ok)
			}
			if err != nil && errs.KindOf(err) != errs.Invalid {
				t.Errorf("kind %s", errs.KindOf(err))
			}
		})
	}
}

func TestBestMatch(t *testing.T) {
	ms := []store.TrustMapping{
		{ID: "any", Match: map[string]string{"login": "*@posthog.com"}},
		{ID: "alice", Match: map[string]string{"login": "alice@posthog.com"}},
		{ID: "also-any", Match: map[string]string{"login": "*@posthog.com"}},
	}
	for login, want := range map[string]string{"alice@posthog.com": "alice", "bob@posthog.com": "any", "eve@evil.com": ""} {
		m, ok := bestMatch(ms, map[string]string{"login": login})
		if m.ID != want || ok != (want != "") {
			t.Errorf("%s: matched %q, want %q", login, m.ID, want)
		}
	}
	// A missing claim matches nothing, not even "*".
	if _, ok := bestMatch([]store.TrustMapping{{Match: map[string]string{"environment": "*"}}}, map[string]string{}); ok {
		t.Error("a missing claim matched *")
	}
}

func TestConcurrentVerification(t *testing.T) {
	ctx := context.Background()
	cluster := oidctest.New(t)
	a := testAuth(t, OIDCConfig{})
	p := mkPrincipal(t, a, "django")
	mkMapping(t, a, store.TrustMapping{Kind: KindK8sSA, Issuer: cluster.URL, PrincipalID: p.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "django"}})
	tok := cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Authenticate(ctx, tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d, k := cluster.Discoveries.Load(), cluster.KeyFetches.Load(); d != 1 || k != 1 {
		t.Errorf("16 concurrent first uses: %d discoveries, %d key fetches; want 1 and 1", d, k)
	}
}
