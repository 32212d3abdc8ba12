package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/PostHog/hogland/internal/store"
)

func TestAuditTargets(t *testing.T) {
	for _, c := range []struct {
		pattern, path, location string
		want                    store.AuditEntry
	}{
		{"/v1/hogboxes", "/v1/hogboxes", "/v1/hogboxes/box-1", store.AuditEntry{BoxID: "box-1"}},
		{"/v1/hogboxes/{id}/exec", "/v1/hogboxes/box-1/exec", "", store.AuditEntry{BoxID: "box-1"}},
		{"/v1/hogboxes/{id}/snapshot", "/v1/hogboxes/box-1/snapshot", "/v1/snapshots/snap-1", store.AuditEntry{BoxID: "box-1", SnapshotID: "snap-1"}},
		{"/v1/hogboxes/{id}/proxy-tokens/{token_id}", "/v1/hogboxes/box-1/proxy-tokens/ptk-1", "", store.AuditEntry{BoxID: "box-1", TargetID: "ptk-1"}},
		{"/v1/snapshots/{id}/aliases/{alias}", "/v1/snapshots/snap-1/aliases/golden", "", store.AuditEntry{SnapshotID: "snap-1", TargetID: "golden"}},
		{"/v1/principals", "/v1/principals", "/v1/principals/prn-1", store.AuditEntry{TargetID: "prn-1"}},
		{"/v1/principals/{id}/tokens/{token_id}", "/v1/principals/prn-1/tokens/tid-1", "", store.AuditEntry{TargetID: "prn-1/tid-1"}},
		{"/v1/devboxes/{devbox}/stop", "/v1/devboxes/dev/stop", "", store.AuditEntry{TargetID: "dev"}},
		{"/v1/hogboxes/{id}/proxy/{port}/{path...}", "/v1/hogboxes/box-1/proxy/80/a/b", "", store.AuditEntry{BoxID: "box-1", TargetID: "80"}},
	} {
		mux := http.NewServeMux()
		var got store.AuditEntry
		mux.HandleFunc(c.pattern, func(w http.ResponseWriter, r *http.Request) {
			auditTargets(r, c.pattern, c.location, &got)
		})
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", c.path, nil))
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.path, got, c.want)
		}
	}
}

func TestAuditRecordsChangesAndSessionsOnly(t *testing.T) {
	s := newIDServer(t, idOptions{})
	bob, tok := s.principal("bob")
	s.do(req{method: "GET", path: "/v1/hogboxes/box-000000000000", token: tok})
	s.do(req{method: "DELETE", path: "/v1/hogboxes/box-000000000000", token: tok})
	s.do(req{method: "GET", path: "/v1/hogboxes/box-000000000000/pty", token: tok,
		header: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}})
	s.do(req{method: "DELETE", path: "/v1/hogboxes/box-000000000000", token: "tok_forged"})
	var log struct {
		Items []struct {
			Method, Route string
			Status        int
		} `json:"items"`
	}
	s.must(req{method: "GET", path: "/v1/audit?principal=" + bob.ID, token: s.admin}, 200, &log)
	if len(log.Items) != 2 || log.Items[0].Method != "DELETE" || log.Items[1].Route != "/v1/hogboxes/{id}/pty" || log.Items[1].Status != 404 {
		t.Errorf("audit: %+v", log.Items)
	}
	// The forged token's call was refused before anyone was known: not in
	// the audit log (it is in the access log).
	s.must(req{method: "GET", path: "/v1/audit?box=box-000000000000", token: s.admin}, 200, &log)
	if len(log.Items) != 2 {
		t.Errorf("audit of the box: %+v", log.Items)
	}
}
