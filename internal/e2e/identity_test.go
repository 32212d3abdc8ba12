package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth/oidctest"
)

// This file covers issue #7 (identity) end to end, against real hogplanes:
// the four auth paths, tenancy, quotas, rate limits, tokens and the audit
// log. The OIDC issuers are real issuers on loopback (package oidctest).

// mapping creates a trust mapping as the admin.
func (p *plane) mapping(req api.CreateTrustMappingRequest) api.TrustMapping {
	p.t.Helper()
	var m api.TrustMapping
	p.client(p.Token).must("POST", "/v1/trust-mappings", req, &m, 201)
	return m
}

// principal makes a principal without a token.
func (p *plane) principal(name, kind string) api.Principal {
	p.t.Helper()
	var pr api.Principal
	p.client(p.Token).must("POST", "/v1/principals", api.CreatePrincipalRequest{Name: name, Kind: kind}, &pr, 201)
	return pr
}

// detailSays fails unless a problem's detail says every one of subs.
func detailSays(t *testing.T, pr api.Problem, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(pr.Detail, s) {
			t.Errorf("problem detail %q does not say %q", pr.Detail, s)
		}
	}
}

func TestOIDCServiceAccountsAndGitHubActions(t *testing.T) {
	cluster := oidctest.New(t)
	github := oidctest.New(t)
	stranger := oidctest.New(t)
	p := startPlaneWith(t, planeOptions{Args: []string{"--github-oidc-issuer", github.URL}})
	django := p.principal("django", "service")
	deploy := p.principal("deploy", "service")
	k8s := p.mapping(api.CreateTrustMappingRequest{Kind: "k8s_sa", Issuer: cluster.URL, PrincipalID: django.ID,
		Match: map[string]string{"namespace": "posthog", "service_account": "django"}})
	gh := p.mapping(api.CreateTrustMappingRequest{Kind: "github", PrincipalID: deploy.ID,
		Match: map[string]string{"repository": "PostHog/hogland", "ref": "refs/heads/main"}})
	if gh.Issuer != github.URL {
		t.Errorf("github mapping issuer %q, want --github-oidc-issuer %q", gh.Issuer, github.URL)
	}

	// A Kubernetes workload: /v1/me, a box of its own, the audit trail.
	sa := p.client(cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django")))
	var me api.Me
	sa.must("GET", "/v1/me", nil, &me, 200)
	if me.Principal.ID != django.ID || me.AuthPath != "k8s_sa" || me.TrustMappingID != k8s.ID || me.Subject != "system:serviceaccount:posthog:django" {
		t.Errorf("me (k8s_sa) = %+v", me)
	}
	b := sa.createBox(api.CreateBoxRequest{Image: "busybox"})
	t.Cleanup(func() { // if the test stops early; before the plane stops
		p.client(cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))).do("DELETE", "/v1/hogboxes/"+b.ID, nil, nil)
	})
	if b.OwnerID != django.ID {
		t.Errorf("box owner %s, want %s", b.OwnerID, django.ID)
	}
	if out := sa.sh(b.ID, "echo hi"); out != "hi\n" {
		t.Errorf("exec as a service account: %q", out)
	}
	var audit api.AuditList
	p.client(p.Token).must("GET", "/v1/audit?box="+b.ID, nil, &audit, 200)
	if len(audit.Items) != 2 || audit.Items[0].Route != "/v1/hogboxes" || audit.Items[1].Route != "/v1/hogboxes/{id}/exec" {
		t.Fatalf("audit of %s: %+v", b.ID, audit.Items)
	}
	for _, e := range audit.Items {
		if e.PrincipalID != django.ID || e.AuthPath != "k8s_sa" || e.Subject != me.Subject || e.Status/100 != 2 {
			t.Errorf("audit entry %+v", e)
		}
	}

	// A GitHub Actions job.
	job := p.client(github.Token(t, oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/heads/main", nil)))
	job.must("GET", "/v1/me", nil, &me, 200)
	if me.Principal.ID != deploy.ID || me.AuthPath != "github_oidc" || me.TrustMappingID != gh.ID || me.Subject != "repo:PostHog/hogland:ref:refs/heads/main" {
		t.Errorf("me (github_oidc) = %+v", me)
	}

	expired := oidctest.K8sClaims("hogland", "posthog", "django")
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	for _, c := range []struct {
		name   string
		token  string
		status int
		says   []string
	}{
		{"k8s: api server audience", cluster.Token(t, oidctest.K8sClaims("https://kubernetes.default.svc", "posthog", "django")), 401,
			[]string{"Kubernetes API server", "projected service-account token", `audience "hogland"`}},
		{"k8s: wrong issuer", stranger.Token(t, oidctest.K8sClaims("hogland", "posthog", "django")), 401, []string{"not trusted", stranger.URL}},
		{"k8s: expired", cluster.Token(t, expired), 401, []string{"expired"}},
		{"k8s: bad signature", cluster.SignWith(t, oidctest.NewKey(t, cluster.SigningKey().ID), oidctest.K8sClaims("hogland", "posthog", "django")), 401,
			[]string{"signature does not verify"}},
		{"k8s: unmapped namespace", cluster.Token(t, oidctest.K8sClaims("hogland", "default", "django")), 403, []string{"default/django", "not mapped"}},
		{"github: other branch", github.Token(t, oidctest.GitHubClaims("hogland", "PostHog/hogland", "refs/heads/dev", nil)), 403, []string{"not mapped"}},
		{"github: other repository", github.Token(t, oidctest.GitHubClaims("hogland", "PostHog/posthog", "refs/heads/main", nil)), 403, []string{"PostHog/posthog"}},
		{"github: default audience", github.Token(t, oidctest.GitHubClaims("https://github.com/PostHog", "PostHog/hogland", "refs/heads/main", nil)), 401,
			[]string{`audience "hogland"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr := p.client(c.token).problem("GET", "/v1/me", nil, c.status)
			detailSays(t, pr, c.says...)
		})
	}
	if n := stranger.Discoveries.Load() + stranger.KeyFetches.Load(); n != 0 {
		t.Errorf("hogplane contacted an issuer no mapping names %d times", n)
	}

	// Rotated keys: a token signed with the new key works at once (its
	// unknown key id refetches the keys); the retired key is refused.
	old := cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))
	cluster.Rotate(t)
	p.client(cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))).must("GET", "/v1/me", nil, &me, 200)
	if me.Principal.ID != django.ID {
		t.Errorf("after rotation: %+v", me)
	}
	detailSays(t, p.client(old).problem("GET", "/v1/me", nil, 401), "does not publish")

	// Deleting the mapping refuses the workload from the next call on.
	sa = p.client(cluster.Token(t, oidctest.K8sClaims("hogland", "posthog", "django"))) // a fresh token, as the kubelet writes
	sa.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	p.client(p.Token).must("DELETE", "/v1/trust-mappings/"+k8s.ID, nil, nil, 204)
	detailSays(t, sa.problem("GET", "/v1/me", nil, 401), "not trusted")
}

// tailnetClient is a client that sends Tailscale identity headers from a
// given loopback source address.
func (p *plane) tailnetClient(from, login, name string) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	p.t.Cleanup(tr.CloseIdleConnections)
	c := p.client("")
	c.http = &http.Client{Timeout: time.Minute, Transport: headerTransport{rt: tr, h: map[string]string{
		"Tailscale-User-Login": login, "Tailscale-User-Name": name, "Tailscale-User-Profile-Pic": "https://example.com/a.png",
	}}}
	return c
}

type headerTransport struct {
	rt http.RoundTripper
	h  map[string]string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header.Set(k, v)
	}
	return t.rt.RoundTrip(r)
}

func TestTailscaleIngressIdentity(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--tailscale-proxy", "127.0.0.1/32"}})
	ops := p.principal("ops", "user")
	p.mapping(api.CreateTrustMappingRequest{Kind: "tailscale", PrincipalID: ops.ID, Match: map[string]string{"login": "ops@example.com"}})
	prov := p.mapping(api.CreateTrustMappingRequest{Kind: "tailscale", Provision: true, Match: map[string]string{"login": "*@example.com"}})

	// From the trusted proxy address: honoured.
	alice := p.tailnetClient("127.0.0.1", "alice@example.com", "Alice")
	var me api.Me
	alice.must("GET", "/v1/me", nil, &me, 200)
	if me.AuthPath != "tailscale" || me.Subject != "alice@example.com" || me.DisplayName != "Alice" || me.TrustMappingID != prov.ID || me.Principal.Name != "alice@example.com" {
		t.Errorf("me (tailscale) = %+v", me)
	}
	aliceID := me.Principal.ID
	p.tailnetClient("127.0.0.1", "ops@example.com", "Ops").must("GET", "/v1/me", nil, &me, 200)
	if me.Principal.ID != ops.ID {
		t.Errorf("ops maps to %s, want %s", me.Principal.ID, ops.ID)
	}
	detailSays(t, p.tailnetClient("127.0.0.1", "mallory@evil.com", "").problem("GET", "/v1/me", nil, 403), "mallory@evil.com", "not mapped")

	// From any other address: the headers are ignored.
	forged := p.tailnetClient("127.0.0.2", "alice@example.com", "Alice")
	detailSays(t, forged.problem("GET", "/v1/me", nil, 401), "no credential")

	// A tailnet user owns boxes like anyone; the identity headers never
	// reach the box through the proxy, from either address.
	b := alice.createBox(api.CreateBoxRequest{Image: "busybox"})
	t.Cleanup(func() { alice.do("DELETE", "/v1/hogboxes/"+b.ID, nil, nil) }) // before the plane stops
	if b.OwnerID != aliceID {
		t.Errorf("box owner %s, want %s", b.OwnerID, aliceID)
	}
	serveInBox(t, alice, b.ID, 8080)
	var got echoed
	alice.must("GET", "/v1/hogboxes/"+b.ID+"/proxy/8080/echo/", nil, &got, 200)
	for h := range got.Headers {
		if strings.HasPrefix(h, "Tailscale-") {
			t.Errorf("box saw %s from a trusted proxy", h)
		}
	}
	forged.problem("GET", "/v1/hogboxes/"+b.ID+"/proxy/8080/echo/", nil, 401)
	// An API token from an untrusted address with forged headers: the
	// headers are stripped, the token decides (here: not the owner).
	tokenUser := p.newPrincipal("bob")
	forgedWithToken := p.tailnetClient("127.0.0.2", "alice@example.com", "Alice")
	forgedWithToken.token = tokenUser.token
	forgedWithToken.problem("GET", "/v1/hogboxes/"+b.ID+"/proxy/8080/echo/", nil, 404)
	forgedWithToken.must("GET", "/v1/me", nil, &me, 200)
	if me.AuthPath != "api_token" || me.Principal.Name != "bob" {
		t.Errorf("me with a token and forged headers = %+v", me)
	}
}

func TestTenancyAcrossPrincipals(t *testing.T) {
	p := startPlane(t)
	admin := p.client(p.Token)
	alice := p.newPrincipal("alice")
	bob := p.newPrincipal("bob")
	var aliceMe, bobMe api.Me
	alice.must("GET", "/v1/me", nil, &aliceMe, 200)
	bob.must("GET", "/v1/me", nil, &bobMe, 200)
	b := alice.createBox(api.CreateBoxRequest{Image: "busybox", Name: "mine"})
	bob.createBox(api.CreateBoxRequest{Image: "busybox", Name: "mine"}) // names are per owner
	var pt api.PreviewToken
	alice.must("POST", "/v1/hogboxes/"+b.ID+"/proxy-tokens", api.CreatePreviewTokenRequest{Port: 8080}, &pt, 201)

	box := "/v1/hogboxes/" + b.ID
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", box, nil},
		{"PATCH", box, api.UpdateBoxRequest{Tags: &[]string{"a=b"}}},
		{"DELETE", box, nil},
		{"POST", box + "/pause", nil},
		{"POST", box + "/resume", nil},
		{"POST", box + "/exec", api.ExecRequest{Argv: []string{"true"}}},
		{"POST", box + "/exec/stream", api.ExecRequest{Argv: []string{"true"}}},
		{"GET", box + "/events", nil},
		{"GET", box + "/files?path=/etc/passwd", nil},
		{"PUT", box + "/files?path=/tmp/x", nil},
		{"POST", box + "/proxy-tokens", api.CreatePreviewTokenRequest{Port: 8080}},
		{"GET", box + "/proxy-tokens", nil},
		{"DELETE", box + "/proxy-tokens/" + pt.ID, nil},
		{"GET", box + "/proxy/8080/", nil},
		{"POST", box + "/proxy/8080/rpc", map[string]any{"jsonrpc": "2.0"}},
	} {
		bob.problem(c.method, c.path, c.body, 404)
	}
	// Snapshots, aliases and devboxes are the owner's too.
	var sn api.Snapshot
	alice.must("POST", box+"/snapshot", nil, &sn, 201)
	alice.must("PUT", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, nil, 200)
	var dev api.Devbox
	alice.must("POST", "/v1/devboxes", api.CreateDevboxRequest{Name: "dev", Image: "busybox"}, &dev, 201)
	t.Cleanup(func() { alice.do("DELETE", "/v1/devboxes/dev", nil, nil) }) // before the plane stops
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/snapshots/" + sn.ID, nil},
		{"DELETE", "/v1/snapshots/" + sn.ID, nil},
		{"PUT", "/v1/snapshots/" + sn.ID + "/aliases/mine", nil},
		{"DELETE", "/v1/snapshots/" + sn.ID + "/aliases/golden", nil},
		{"POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: sn.ID}},
		{"GET", "/v1/devboxes/dev", nil},
		{"PATCH", "/v1/devboxes/dev", map[string]any{"auto_stop_seconds": 60}},
		{"POST", "/v1/devboxes/dev/stop", nil},
		{"POST", "/v1/devboxes/dev/exec", api.ExecRequest{Argv: []string{"true"}}},
		{"DELETE", "/v1/devboxes/dev", nil},
		{"GET", "/v1/devboxes/dev/proxy/8080/", nil},
	} {
		bob.problem(c.method, c.path, c.body, 404)
	}
	// "alias:golden" is looked up among bob's own aliases, where there is none.
	if status, body := bob.raw("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "alias:golden"}); status/100 != 4 || status == 409 {
		t.Errorf("bob creating from alice's alias: %d %s", status, body)
	}
	var snaps api.SnapshotList
	bob.must("GET", "/v1/snapshots", nil, &snaps, 200)
	var aliases json.RawMessage
	bob.must("GET", "/v1/snapshot-aliases", nil, &aliases, 200)
	var devs json.RawMessage
	bob.must("GET", "/v1/devboxes", nil, &devs, 200)
	if len(snaps.Items) != 0 || strings.Contains(string(aliases), "golden") || strings.Contains(string(devs), dev.ID) {
		t.Errorf("bob sees alice's snapshots %+v, aliases %s or devboxes %s", snaps.Items, aliases, devs)
	}

	// Bob's token in the query, as a browser would send it, is no better.
	bob.problem("GET", box+"/proxy/8080/?token="+bob.token, nil, 404)
	var list api.BoxList
	bob.must("GET", "/v1/hogboxes", nil, &list, 200)
	if len(list.Items) != 1 || list.Items[0].OwnerID != bobMe.Principal.ID {
		t.Errorf("bob lists %+v", list.Items)
	}
	// Listing across principals is for admins.
	bob.problem("GET", "/v1/hogboxes?owner="+aliceMe.Principal.ID, nil, 403)
	bob.problem("GET", "/v1/hogboxes?owner=*", nil, 403)
	owners := func(l api.BoxList) map[string]int {
		n := map[string]int{}
		for _, b := range l.Items {
			n[b.OwnerID]++
		}
		return n
	}
	admin.must("GET", "/v1/hogboxes?owner="+aliceMe.Principal.ID, nil, &list, 200)
	if n := owners(list); len(n) != 1 || n[aliceMe.Principal.ID] != 2 { // her box and her devbox's
		t.Errorf("admin lists alice's: %v", n)
	}
	admin.must("GET", "/v1/hogboxes?owner=*", nil, &list, 200)
	if n := owners(list); n[aliceMe.Principal.ID] != 2 || n[bobMe.Principal.ID] != 1 {
		t.Errorf("admin lists every box: %v", n)
	}
	// Alice's box is untouched.
	alice.must("GET", box, nil, &b, 200)
	if b.Status != api.StatusRunning || len(b.Tags) != 0 {
		t.Errorf("alice's box after bob's attempts: %+v", b)
	}
	// Bob's attempts are in the audit log, under bob, as refused.
	var audit api.AuditList
	admin.must("GET", "/v1/audit?principal="+bobMe.Principal.ID+"&box="+b.ID, nil, &audit, 200)
	if len(audit.Items) < 8 {
		t.Errorf("audit has %d of bob's attempts on %s", len(audit.Items), b.ID)
	}
	for _, e := range audit.Items {
		if e.Status != 404 || e.PrincipalID != bobMe.Principal.ID || e.BoxID != b.ID {
			t.Errorf("audit entry %+v", e)
		}
	}
	// Snapshot calls are found by snapshot id, with their box and target.
	admin.must("GET", "/v1/audit?snapshot="+sn.ID, nil, &audit, 200)
	var made, aliased bool
	for _, e := range audit.Items {
		switch {
		case e.Route == "/v1/hogboxes/{id}/snapshot" && e.BoxID == b.ID && e.PrincipalID == aliceMe.Principal.ID && e.Status == 201:
			made = true
		case e.Route == "/v1/snapshots/{id}/aliases/{alias}" && e.Method == "PUT" && e.TargetID == "golden" && e.Status == 200:
			aliased = true
		}
	}
	if !made || !aliased {
		t.Errorf("audit of snapshot %s: %+v", sn.ID, audit.Items)
	}
	bob.problem("GET", "/v1/audit", nil, 403)
}

func TestTokensExpiryRevocationAndSecrets(t *testing.T) {
	p := startPlane(t)
	admin := p.client(p.Token)
	carol := p.principal("carol", "user")
	var short, long api.Token
	admin.must("POST", "/v1/principals/"+carol.ID+"/tokens", api.CreateTokenRequest{Name: "short", ExpiresInSeconds: 1}, &short, 201)
	admin.must("POST", "/v1/principals/"+carol.ID+"/tokens", api.CreateTokenRequest{Name: "long"}, &long, 201)
	p.client(short.Token).must("GET", "/v1/me", nil, nil, 200)
	c := p.client(long.Token)
	c.must("GET", "/v1/me", nil, nil, 200)
	var list api.TokenList
	c.must("GET", "/v1/principals/"+carol.ID+"/tokens", nil, &list, 200)
	if len(list.Items) != 2 || list.Items[1].LastUsedAt == nil || list.Items[0].ExpiresAt == nil || list.Items[0].Token != "" {
		t.Errorf("tokens: %+v", list.Items)
	}
	time.Sleep(1100 * time.Millisecond)
	detailSays(t, p.client(short.Token).problem("GET", "/v1/me", nil, 401), "expired")
	admin.must("DELETE", "/v1/principals/"+carol.ID+"/tokens/"+long.ID, nil, nil, 204)
	detailSays(t, c.problem("GET", "/v1/me", nil, 401), "revoked")

	// No secret is ever stored: not the token, nor its use.
	p.stop(syscall.SIGTERM) // flushes the audit log
	for _, f := range []string{"hogland.db", "hogland.db-wal"} {
		b, err := os.ReadFile(filepath.Join(p.DataDir, f))
		if err != nil {
			continue
		}
		for _, secret := range []string{short.Token, long.Token, p.Token} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds a token secret", f)
			}
		}
	}
}

func TestQuotas(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--quota-max-memory-mib", "1024"}})
	admin := p.client(p.Token)
	bob := p.newPrincipal("bob")
	var bobMe api.Me
	bob.must("GET", "/v1/me", nil, &bobMe, 200)
	var l api.Limits
	bob.must("GET", "/v1/limits", nil, &l, 200)
	if l.Quota.MaxMemoryMiB != 1024 || l.Quota.MaxBoxes != 200 {
		t.Errorf("default quota from flags: %+v", l.Quota)
	}

	// max_boxes 1: the second box is a 403 naming the quota, its limit
	// and its use; destroying the first makes room again.
	one, four := int64(1), int64(4)
	admin.must("PATCH", "/v1/principals/"+bobMe.Principal.ID, api.UpdatePrincipalRequest{Quota: &api.QuotaOverrides{MaxBoxes: &one}}, nil, 200)
	b := bob.createBox(api.CreateBoxRequest{Image: "busybox", MemoryMiB: 256})
	pr := bob.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", MemoryMiB: 256}, 403)
	if pr.Extra["quota"] != "max_boxes" || pr.Extra["limit"] != float64(1) || pr.Extra["used"] != float64(1) {
		t.Errorf("max_boxes problem: %+v", pr)
	}
	bob.must("GET", "/v1/limits", nil, &l, 200)
	if l.Quota.MaxBoxes != 1 || l.Usage.Boxes != 1 || l.Usage.MemoryMiB != 256 {
		t.Errorf("limits at quota: %+v %+v", l.Quota, l.Usage)
	}
	bob.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	b = bob.createBox(api.CreateBoxRequest{Image: "busybox", MemoryMiB: 512})

	// Memory across live boxes (default from --quota-max-memory-mib) and
	// CPUs (override).
	admin.must("PATCH", "/v1/principals/"+bobMe.Principal.ID, api.UpdatePrincipalRequest{Quota: &api.QuotaOverrides{MaxBoxes: &four, MaxCPUs: &four}}, nil, 200)
	pr = bob.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", MemoryMiB: 768}, 403)
	if pr.Extra["quota"] != "max_memory_mib" || pr.Extra["limit"] != float64(1024) || pr.Extra["used"] != float64(512) {
		t.Errorf("max_memory_mib problem: %+v", pr)
	}
	pr = bob.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", CPUs: 4, MemoryMiB: 64}, 403)
	if pr.Extra["quota"] != "max_cpus" || pr.Extra["limit"] != float64(4) || pr.Extra["used"] != float64(1) {
		t.Errorf("max_cpus problem: %+v", pr)
	}
	// Snapshot storage: at its limit a snapshot is refused; deleting one
	// makes room again.
	bob.sh(b.ID, "echo data > /root/f")
	var sn api.Snapshot
	bob.must("POST", "/v1/hogboxes/"+b.ID+"/snapshot", nil, &sn, 201)
	bob.must("GET", "/v1/limits", nil, &l, 200)
	if sn.SizeBytes <= 0 || l.Usage.SnapshotBytes != sn.SizeBytes {
		t.Errorf("snapshot of %d bytes, usage %+v", sn.SizeBytes, l.Usage)
	}
	full := sn.SizeBytes
	admin.must("PATCH", "/v1/principals/"+bobMe.Principal.ID, api.UpdatePrincipalRequest{Quota: &api.QuotaOverrides{MaxBoxes: &four, MaxCPUs: &four, MaxSnapshotBytes: &full}}, nil, 200)
	pr = bob.problem("POST", "/v1/hogboxes/"+b.ID+"/snapshot", nil, 403)
	if pr.Extra["quota"] != "max_snapshot_bytes" || pr.Extra["limit"] != float64(full) || pr.Extra["used"] != float64(full) {
		t.Errorf("max_snapshot_bytes problem: %+v", pr)
	}
	bob.must("DELETE", "/v1/snapshots/"+sn.ID, nil, nil, 204)
	bob.must("POST", "/v1/hogboxes/"+b.ID+"/snapshot", nil, &sn, 201)
	bob.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	// The admin sees bob's quota, overrides and usage.
	var d api.PrincipalDetail
	admin.must("GET", "/v1/principals/"+bobMe.Principal.ID, nil, &d, 200)
	if d.Quota.MaxCPUs != 4 || d.Quota.MaxMemoryMiB != 1024 || *d.QuotaOverrides.MaxBoxes != 4 || d.QuotaOverrides.MaxMemoryMiB != nil || d.Usage.Boxes != 0 || d.Usage.SnapshotBytes != sn.SizeBytes {
		t.Errorf("principal detail: %+v", d)
	}
}

func TestRateLimits(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{
		"--rate-limit", "20", "--rate-burst", "30", "--create-rate-limit", "1", "--create-burst", "2",
	}})
	var l api.Limits
	p.client(p.Token).must("GET", "/v1/limits", nil, &l, 200)
	if (l.RateLimit != api.RateLimit{RequestsPerSecond: 20, RequestsBurst: 30, CreatesPerSecond: 1, CreatesBurst: 2}) {
		t.Errorf("rate limits from flags: %+v", l.RateLimit)
	}
	bob := p.newPrincipal("bob")

	// Creates: a burst of 2, then 429 with Retry-After, then allowed again.
	carol := p.newPrincipal("carol")
	bad := api.CreateBoxRequest{Kind: "no-such-kind"}
	carol.problem("POST", "/v1/hogboxes", bad, 400)
	carol.problem("POST", "/v1/hogboxes", bad, 400)
	wait := rateLimited(t, carol, "POST", "/v1/hogboxes", bad, "creates")
	time.Sleep(wait)
	carol.problem("POST", "/v1/hogboxes", bad, 400)

	// Every call: burst 30 at 20/s, then 429; recovered after the wait.
	dave := p.newPrincipal("dave")
	var last int
	for i := 0; i < 100; i++ {
		if last = dave.do("GET", "/v1/me", nil, nil); last == 429 {
			break
		}
	}
	if last != 429 {
		t.Fatal("100 calls in a burst were never rate limited")
	}
	wait = rateLimited(t, dave, "GET", "/v1/me", nil, "calls per second")
	time.Sleep(wait)
	dave.must("GET", "/v1/me", nil, nil, 200)
	// Others are not slowed by dave.
	bob.must("GET", "/v1/me", nil, nil, 200)
}

// rateLimited makes a call that must be rate limited and returns how long
// its Retry-After says to wait.
func rateLimited(t *testing.T, c *client, method, path string, body any, says string) time.Duration {
	t.Helper()
	resp := c.send(method, path, body)
	defer resp.Body.Close()
	var pr api.Problem
	_ = json.NewDecoder(resp.Body).Decode(&pr)
	if resp.StatusCode != 429 || !strings.Contains(pr.Detail, says) || pr.RequestID == "" {
		t.Fatalf("%s %s: %d %+v, want a 429 about %s", method, path, resp.StatusCode, pr, says)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q, want whole seconds >= 1", resp.Header.Get("Retry-After"))
	}
	return time.Duration(secs) * time.Second
}
