package auth

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

func TestTailscaleTrust(t *testing.T) {
	ts := &Tailscale{Proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd7a:115c:a1e0::/48")}}
	for _, c := range []struct {
		remote  string
		trusted bool
	}{
		{"127.0.0.1:5000", true}, {"127.0.0.2:5000", false}, {"[::ffff:127.0.0.1]:1", true},
		{"[fd7a:115c:a1e0::1]:443", true}, {"[fd7a:115c:a1e1::1]:443", false}, {"garbage", false},
	} {
		r := httptest.NewRequest("GET", "/v1/me", nil)
		r.RemoteAddr = c.remote
		r.Header.Set(HeaderTailscaleLogin, "alice@example.com")
		r.Header.Set("Tailscale-User-Profile-Pic", "x")
		r.Header.Set("X-Other", "kept")
		if got := ts.Trusted(r); got != c.trusted {
			t.Errorf("%s: trusted %v, want %v", c.remote, got, c.trusted)
		}
		ts.Sanitize(r)
		if kept := r.Header.Get(HeaderTailscaleLogin) != ""; kept != c.trusted {
			t.Errorf("%s: login header kept %v, want %v", c.remote, kept, c.trusted)
		}
		if !c.trusted && r.Header.Get("Tailscale-User-Profile-Pic") != "" {
			t.Errorf("%s: other Tailscale-* header kept", c.remote)
		}
		if r.Header.Get("X-Other") != "kept" {
			t.Errorf("%s: unrelated header dropped", c.remote)
		}
	}
	var none *Tailscale
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set(HeaderTailscaleLogin, "a")
	none.Sanitize(r)
	if r.Header.Get(HeaderTailscaleLogin) != "" {
		t.Error("no trusted proxies configured, header kept")
	}
	for in, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3": "10.1.2.3/32", "10.1.2.3/8": "10.0.0.0/8", "::1": "::1/128"} {
		p, err := ParseProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	if _, err := ParseProxy("tailnet"); err == nil {
		t.Error("ParseProxy accepted a name")
	}
}

func TestTailscaleIdentity(t *testing.T) {
	ctx := context.Background()
	a := testAuth(t, OIDCConfig{})
	a.Tailscale = &Tailscale{Proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	ops := mkPrincipal(t, a, "ops")
	named := mkMapping(t, a, store.TrustMapping{Kind: KindTailscale, PrincipalID: ops.ID, Match: map[string]string{"login": "ops@example.com"}})
	prov := mkMapping(t, a, store.TrustMapping{Kind: KindTailscale, Provision: true, Match: map[string]string{"login": "*@example.com"}})

	req := func(remote, login, name, bearer string) (Identity, error) {
		r := httptest.NewRequest("GET", "/v1/me", nil)
		r.RemoteAddr = remote
		if login != "" {
			r.Header.Set(HeaderTailscaleLogin, login)
			r.Header.Set(HeaderTailscaleName, name)
		}
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		return a.AuthenticateRequest(r, false)
	}
	id, err := req("127.0.0.1:9", "ops@example.com", "Ops", "")
	if err != nil || id.Principal.ID != ops.ID || id.Path != PathTailscale || id.MappingID != named.ID || id.DisplayName != "Ops" {
		t.Fatalf("named mapping: %+v %v", id, err)
	}
	// Provisioning: one principal per login, made once even under
	// concurrent first calls, and found again later.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := req("127.0.0.1:9", "alice@example.com", "=?utf-8?q?Al=C3=AFce?=", "")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = id.Principal.ID
		}()
	}
	wg.Wait()
	for _, x := range ids {
		if x != ids[0] {
			t.Fatalf("concurrent provisioning made several principals: %v", ids)
		}
	}
	id, err = req("127.0.0.1:9", "alice@example.com", "=?utf-8?q?Al=C3=AFce?=", "")
	if err != nil || id.Principal.ID != ids[0] || id.Principal.Name != "alice@example.com" || id.MappingID != prov.ID || id.DisplayName != "Alïce" {
		t.Errorf("provisioned: %+v %v", id, err)
	}
	_, err = req("127.0.0.1:9", "eve@evil.com", "", "")
	wantErr(t, err, errs.PermissionDenied, "eve@evil.com", "not mapped")
	// From an untrusted peer the headers mean nothing.
	_, err = req("127.0.0.2:9", "ops@example.com", "Ops", "")
	wantErr(t, err, errs.Unauthenticated, "no credential")
	// A bearer credential wins over the headers.
	_, err = req("127.0.0.1:9", "ops@example.com", "Ops", "tok_nope")
	wantErr(t, err, errs.Unauthenticated, "API token is not valid")
	// Deleting the mapping refuses the provisioned login from then on.
	if err := a.Store.DeleteTrustMapping(ctx, prov.ID); err != nil {
		t.Fatal(err)
	}
	_, err = req("127.0.0.1:9", "alice@example.com", "", "")
	wantErr(t, err, errs.PermissionDenied, "not mapped")
}
