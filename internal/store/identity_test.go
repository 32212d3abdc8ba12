package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

func openIdentityTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "hogland.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mkTestPrincipal(t *testing.T, s *Store, id, name string) Principal {
	t.Helper()
	p := Principal{ID: id, Name: name, Kind: "user", CreatedAt: time.Now().UTC()}
	if err := s.CreatePrincipal(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrustMappings(t *testing.T) {
	ctx := context.Background()
	s := openIdentityTestStore(t)
	mkTestPrincipal(t, s, "prn-a", "a")
	now := time.Now().UTC()
	k8s := TrustMapping{ID: "tm-1", Kind: "k8s_sa", Issuer: "https://oidc.example", PrincipalID: "prn-a",
		Match: map[string]string{"namespace": "ns", "service_account": "sa"}, CreatedAt: now}
	if err := s.CreateTrustMapping(ctx, k8s); err != nil {
		t.Fatal(err)
	}
	ts := TrustMapping{ID: "tm-2", Kind: "tailscale", Provision: true, Match: map[string]string{"login": "*"}, CreatedAt: now.Add(time.Second)}
	if err := s.CreateTrustMapping(ctx, ts); err != nil {
		t.Fatal(err)
	}
	// One issuer serves one kind.
	gh := TrustMapping{ID: "tm-3", Kind: "github", Issuer: "https://oidc.example", PrincipalID: "prn-a", Match: map[string]string{"repository": "a/b"}, CreatedAt: now}
	if err := s.CreateTrustMapping(ctx, gh); !errs.Is(err, errs.Conflict) {
		t.Errorf("second kind for one issuer: %v", err)
	}
	bad := TrustMapping{ID: "tm-4", Kind: "k8s_sa", Issuer: "https://x", PrincipalID: "prn-nope", Match: map[string]string{}, CreatedAt: now}
	if err := s.CreateTrustMapping(ctx, bad); !errs.Is(err, errs.Invalid) {
		t.Errorf("missing principal: %v", err)
	}
	got, err := s.TrustMappingsForIssuer(ctx, "https://oidc.example")
	if err != nil || len(got) != 1 || got[0].Match["service_account"] != "sa" || got[0].PrincipalID != "prn-a" {
		t.Errorf("for issuer: %+v %v", got, err)
	}
	got, err = s.TrustMappingsFor(ctx, "tailscale", "")
	if err != nil || len(got) != 1 || !got[0].Provision || got[0].PrincipalID != "" {
		t.Errorf("tailscale: %+v %v", got, err)
	}
	all, err := s.TrustMappings(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "tm-1" {
		t.Errorf("all: %+v %v", all, err)
	}
	if err := s.DeleteTrustMapping(ctx, "tm-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTrustMapping(ctx, "tm-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.TrustMapping(ctx, "tm-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("deleted mapping: %v", err)
	}
}

func TestProvisionPrincipal(t *testing.T) {
	ctx := context.Background()
	s := openIdentityTestStore(t)
	mkTestPrincipal(t, s, "prn-taken", "alice@example.com") // a name clash
	p, err := s.ProvisionPrincipal(ctx, "tailscale", "alice@example.com", Principal{ID: "prn-1", Name: "alice@example.com", Kind: "user", CreatedAt: time.Now()})
	if err != nil || p.ID != "prn-1" || p.Name != "alice@example.com-2" {
		t.Fatalf("provision: %+v %v", p, err)
	}
	again, err := s.ProvisionPrincipal(ctx, "tailscale", "alice@example.com", Principal{ID: "prn-2", Name: "x", Kind: "user", CreatedAt: time.Now()})
	if err != nil || again.ID != "prn-1" {
		t.Errorf("second provision: %+v %v", again, err)
	}
	linked, err := s.LinkedPrincipal(ctx, "tailscale", "alice@example.com")
	if err != nil || linked.ID != "prn-1" {
		t.Errorf("linked: %+v %v", linked, err)
	}
	if _, err := s.LinkedPrincipal(ctx, "tailscale", "bob"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unlinked: %v", err)
	}
}

func TestQuotaOverridesAndTokens(t *testing.T) {
	ctx := context.Background()
	s := openIdentityTestStore(t)
	mkTestPrincipal(t, s, "prn-a", "a")
	q, err := s.QuotaOverrides(ctx, "prn-a")
	if err != nil || !q.Empty() {
		t.Fatalf("fresh: %+v %v", q, err)
	}
	two, big := int64(2), int64(1<<40)
	if err := s.SetQuotaOverrides(ctx, "prn-a", QuotaOverrides{MaxBoxes: &two, MaxSnapshotBytes: &big}); err != nil {
		t.Fatal(err)
	}
	q, err = s.QuotaOverrides(ctx, "prn-a")
	if err != nil || q.MaxBoxes == nil || *q.MaxBoxes != 2 || q.MaxCPUs != nil || *q.MaxSnapshotBytes != big {
		t.Fatalf("set: %+v %v", q, err)
	}
	if err := s.SetQuotaOverrides(ctx, "prn-a", QuotaOverrides{MaxCPUs: &two}); err != nil {
		t.Fatal(err)
	}
	if q, _ = s.QuotaOverrides(ctx, "prn-a"); q.MaxBoxes != nil || *q.MaxCPUs != 2 {
		t.Errorf("replace: %+v", q)
	}
	if err := s.SetQuotaOverrides(ctx, "prn-a", QuotaOverrides{}); err != nil {
		t.Fatal(err)
	}
	if q, _ = s.QuotaOverrides(ctx, "prn-a"); !q.Empty() {
		t.Errorf("clear: %+v", q)
	}

	now := time.Now().UTC()
	for i, id := range []string{"tid-1", "tid-2"} {
		if err := s.CreateToken(ctx, Token{ID: id, PrincipalID: "prn-a", Hash: id + "-hash", CreatedAt: now.Add(time.Duration(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, "prn-a", "tid-1", now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "prn-a", "tid-1", now.Add(time.Hour)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	if err := s.RevokeToken(ctx, "prn-other", "tid-2", now); !errs.Is(err, errs.NotFound) {
		t.Errorf("revoke someone else's token: %v", err)
	}
	ts, err := s.Tokens(ctx, "prn-a")
	if err != nil || len(ts) != 2 || ts[0].RevokedAt == nil || !ts[0].RevokedAt.Equal(now) || ts[1].RevokedAt != nil {
		t.Errorf("tokens: %+v %v", ts, err)
	}
	ps, err := s.ListPrincipals(ctx)
	if err != nil || len(ps) != 1 {
		t.Errorf("principals: %+v %v", ps, err)
	}
}

func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	s := openIdentityTestStore(t)
	t0 := time.Now().UTC().Add(-time.Hour)
	var entries []AuditEntry
	for i := 0; i < 10; i++ {
		e := AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), PrincipalID: "prn-a", AuthPath: "api_token", Method: "POST", Route: "/v1/hogboxes/{id}/exec", BoxID: "box-1", Status: 200, RequestID: "req"}
		if i%2 == 1 {
			e.PrincipalID, e.BoxID = "prn-b", "box-2"
		}
		entries = append(entries, e)
	}
	if err := s.AppendAudit(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, AuditFilter{PrincipalID: "prn-b"})
	if err != nil || len(got) != 5 || got[0].BoxID != "box-2" || got[0].Seq >= got[1].Seq {
		t.Fatalf("by principal: %+v %v", got, err)
	}
	page, err := s.Audit(ctx, AuditFilter{BoxID: "box-1", Limit: 2})
	if err != nil || len(page) != 2 {
		t.Fatal(page, err)
	}
	rest, err := s.Audit(ctx, AuditFilter{BoxID: "box-1", After: page[1].Seq})
	if err != nil || len(rest) != 3 {
		t.Errorf("next page: %d %v", len(rest), err)
	}
	since, err := s.Audit(ctx, AuditFilter{Since: t0.Add(5 * time.Minute)})
	if err != nil || len(since) != 5 {
		t.Errorf("since: %d %v", len(since), err)
	}
	n, err := s.PruneAudit(ctx, t0.Add(3*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("pruned %d %v", n, err)
	}
}
