package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

// TestEventStream follows a box's history live over SSE while it is paused,
// resumed and destroyed; the stream ends on its own once the box has ended.
func TestEventStream(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	resp := c.request("GET", "/v1/hogboxes/"+b.ID+"/events", nil, map[string]string{"Accept": "text/event-stream"})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		c.must("POST", "/v1/hogboxes/"+b.ID+"/pause", nil, nil, 200)
		c.must("POST", "/v1/hogboxes/"+b.ID+"/resume", nil, nil, 200)
		c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	}()
	done := make(chan []byte)
	go func() {
		raw, _ := io.ReadAll(resp.Body)
		done <- raw
	}()
	var raw []byte
	select {
	case raw = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("event stream did not end after the box was destroyed")
	}
	var types []string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			types = append(types, v)
		}
	}
	if got := strings.Join(types, ","); got != "created,running,paused,resumed,destroyed" {
		t.Errorf("streamed events %s", got)
	}
	// Resuming after an id skips what was seen.
	resp2 := c.request("GET", "/v1/hogboxes/"+b.ID+"/events", nil, map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "0"})
	all, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	var evs api.BoxEventList
	c.must("GET", "/v1/hogboxes/"+b.ID+"/events?after=2", nil, &evs, 200)
	if len(evs.Items) != 3 || evs.Items[0].Type != "paused" || evs.Items[2].Reason != api.ReasonDestroyed {
		t.Errorf("events after seq 2: %+v", evs.Items)
	}
	if strings.Count(string(all), "event: ") != 5 {
		t.Errorf("replayed stream: %s", all)
	}
}

func TestMetricsAndAdminToken(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "true")
	c.problem("GET", "/v1/hogboxes/box-000000000000", nil, 404)
	resp := p.client("").request("GET", "/metrics", nil, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`hogland_boxes{status="running"} 1`,
		`hogland_box_create_seconds_count{result="ok"} 1`,
		`hogland_exec_seconds_count{mode="batch"} 1`,
		`hogland_http_errors_total{type="not-found"} 1`,
		`hogland_http_requests_total{code="201",route="/v1/hogboxes"} 1`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	fi, err := os.Stat(filepath.Join(p.DataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %o, want 600", fi.Mode().Perm())
	}
	// A restart keeps the same admin token and database.
	p2 := restart(t, p, syscall.SIGTERM)
	if p2.Token != p.Token {
		t.Error("admin token changed across a restart")
	}
	p2.client(p2.Token).must("GET", "/v1/hogboxes/"+b.ID, nil, nil, 200)
}
