package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// testAuth is an Authenticator on a fresh store.
func testAuth(t testing.TB, cfg OIDCConfig) *Authenticator {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "hogland.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &Authenticator{Store: st, OIDC: NewOIDC(cfg)}
}

func mkPrincipal(t testing.TB, a *Authenticator, name string) store.Principal {
	t.Helper()
	p := store.Principal{ID: RandomID("prn-", 12), Name: name, Kind: "service", CreatedAt: time.Now().UTC()}
	if err := a.Store.CreatePrincipal(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// mkMapping validates and stores a trust mapping, as the admin API does.
func mkMapping(t testing.TB, a *Authenticator, m store.TrustMapping) store.TrustMapping {
	t.Helper()
	m.ID = RandomID("tm-", 12)
	m.CreatedAt = time.Now().UTC()
	if err := ValidateMapping(&m, a.OIDC.GitHubIssuer()); err != nil {
		t.Fatalf("mapping %+v: %v", m, err)
	}
	if err := a.Store.CreateTrustMapping(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantErr checks err has kind k and a detail containing every one of subs.
func wantErr(t testing.TB, err error, k errs.Kind, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", k)
	}
	if got := errs.KindOf(err); got != k {
		t.Fatalf("error kind %s, want %s: %v", got, k, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}
