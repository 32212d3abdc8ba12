package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

// waitDevbox polls a devbox until it has status, or fails the test.
func (c *client) waitDevbox(ref, status string, within time.Duration) api.Devbox {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var d api.Devbox
	for time.Now().Before(deadline) {
		d = c.devbox("GET", "/v1/devboxes/"+ref, nil)
		if d.Status == status {
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("devbox %s is %s after %s, want %s", ref, d.Status, within, status)
	return d
}

// devbox sends a devbox call expecting 200 and returns the devbox (a
// fresh value: members the answer leaves out are zero).
func (c *client) devbox(method, path string, in any) api.Devbox {
	c.t.Helper()
	var d api.Devbox
	c.must(method, path, in, &d, 200)
	return d
}

func devboxEventTypes(c *client, ref string) string {
	c.t.Helper()
	var evs api.DevboxEventList
	c.must("GET", "/v1/devboxes/"+ref+"/events", nil, &evs, 200)
	var types []string
	for _, e := range evs.Items {
		types = append(types, e.Type)
	}
	return strings.Join(types, ",")
}

func TestDevboxStopStartKeepsDisk(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--devbox-min-auto-stop", "1"}})
	c := p.client(p.Token)
	never := int64(0)
	var d api.Devbox
	c.must("POST", "/v1/devboxes", api.CreateDevboxRequest{Name: "dev", Image: "busybox", MemoryMiB: 128, AutoStopSeconds: &never}, &d, 201)
	if d.Status != api.DevboxRunning || d.BoxID == "" || !strings.HasPrefix(d.ID, "dbx-") || d.Spec.MemoryMiB != 128 || !d.AutoStart {
		t.Fatalf("created devbox: %+v", d)
	}
	c.problem("POST", "/v1/devboxes", api.CreateDevboxRequest{Name: "dev", Image: "busybox"}, 409)
	c.problem("POST", "/v1/devboxes", api.CreateDevboxRequest{Image: "busybox"}, 400)
	negative := int64(-1)
	c.problem("POST", "/v1/devboxes", api.CreateDevboxRequest{Name: "x", Image: "busybox", AutoStopSeconds: &negative}, 400)

	first := d.BoxID
	c.sh(first, "mkdir -p /home/me && echo work > /home/me/notes && rm /bin/base64")
	d = c.devbox("POST", "/v1/devboxes/dev/stop", nil)
	if d.Status != api.DevboxStopped || d.BoxID != "" || !strings.HasPrefix(d.SnapshotID, "snap-") {
		t.Fatalf("stopped devbox: %+v", d)
	}
	var b api.Box
	c.must("GET", "/v1/hogboxes/"+first, nil, &b, 200)
	if b.Status != api.StatusStopped || b.TerminationReason != api.ReasonDevboxStopped {
		t.Errorf("the stopped devbox's box: %s (%s)", b.Status, b.TerminationReason)
	}
	assertNothingLeft(t, p, first)
	d = c.devbox("POST", "/v1/devboxes/dev/stop", nil) // harmless
	d = c.devbox("POST", "/v1/devboxes/"+d.ID+"/start", nil)
	if d.Status != api.DevboxRunning || d.BoxID == "" || d.BoxID == first {
		t.Fatalf("started devbox: %+v", d)
	}
	if out := c.sh(d.BoxID, "cat /home/me/notes; test ! -e /bin/base64 && echo gone"); out != "work\ngone\n" {
		t.Errorf("disk after stop and start: %q", out)
	}
	// Stop again (a second layer on the first) and start by exec.
	c.sh(d.BoxID, "echo more >> /home/me/notes")
	d = c.devbox("POST", "/v1/devboxes/dev/stop", nil)
	var res api.ExecResult
	c.must("POST", "/v1/devboxes/dev/exec", api.ExecRequest{Argv: []string{"cat", "/home/me/notes"}}, &res, 200)
	if res.Stdout != "work\nmore\n" {
		t.Errorf("exec on a stopped devbox: %+v", res)
	}
	d = c.devbox("GET", "/v1/devboxes/dev", nil)
	if d.Status != api.DevboxRunning {
		t.Errorf("exec did not start the devbox: %+v", d)
	}
	if got := devboxEventTypes(c, "dev"); got != "created,started,stopped,started,stopped,auto_started" {
		t.Errorf("history: %s", got)
	}
	// Older stop snapshots that nothing stands on any more are dropped;
	// the devbox's own is kept and cannot be deleted from under it.
	pr := c.problem("DELETE", "/v1/snapshots/"+d.SnapshotID, nil, 409)
	if !strings.Contains(pr.Detail, "dev") {
		t.Errorf("409 for a devbox's snapshot: %s", pr.Detail)
	}

	// auto_start off: a stopped devbox refuses calls until started.
	off := false
	d = c.devbox("PATCH", "/v1/devboxes/dev", api.UpdateDevboxRequest{AutoStart: &off})
	d = c.devbox("POST", "/v1/devboxes/dev/stop", nil)
	c.problem("POST", "/v1/devboxes/dev/exec", api.ExecRequest{Argv: []string{"true"}}, 409)

	var list api.DevboxList
	c.must("GET", "/v1/devboxes", nil, &list, 200)
	if len(list.Items) != 1 || list.Items[0].Name != "dev" {
		t.Errorf("list: %+v", list)
	}
	c.must("DELETE", "/v1/devboxes/dev", nil, nil, 204)
	c.problem("GET", "/v1/devboxes/dev", nil, 404)
	var snaps api.SnapshotList
	c.must("GET", "/v1/snapshots", nil, &snaps, 200)
	if len(snaps.Items) != 0 {
		t.Errorf("the deleted devbox's snapshots are left: %+v", snaps.Items)
	}
}

func TestDevboxAutoStopAndStart(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--devbox-min-auto-stop", "1"}})
	c := p.client(p.Token)
	idle := int64(2)
	var d api.Devbox
	c.must("POST", "/v1/devboxes", api.CreateDevboxRequest{Name: "sleepy", Image: "busybox", AutoStopSeconds: &idle}, &d, 201)
	c.sh(d.BoxID, "echo state > /root/state")
	// Calls keep it awake past its idle time.
	for range 4 {
		time.Sleep(time.Second)
		var res api.ExecResult
		c.must("POST", "/v1/devboxes/sleepy/exec", api.ExecRequest{Argv: []string{"true"}}, &res, 200)
	}
	d = c.devbox("GET", "/v1/devboxes/sleepy", nil)
	if d.Status != api.DevboxRunning {
		t.Fatalf("busy devbox stopped: %+v", d)
	}
	// Idle, it stops on its own.
	first := d.BoxID
	d = c.waitDevbox("sleepy", api.DevboxStopped, 15*time.Second)
	if d.SnapshotID == "" {
		t.Fatalf("auto-stopped devbox has no snapshot: %+v", d)
	}
	assertNothingLeft(t, p, first)
	// A proxied request wakes it (nothing listens on the port in the new
	// box, so the box answers 502, but the devbox is up again).
	status, body := c.raw("GET", "/v1/devboxes/sleepy/proxy/8080/", nil)
	if status != 502 {
		t.Errorf("proxy to a woken devbox: %d %s", status, body)
	}
	d = c.devbox("GET", "/v1/devboxes/sleepy", nil)
	if d.Status != api.DevboxRunning || d.BoxID == first {
		t.Fatalf("proxy did not wake the devbox: %+v", d)
	}
	if out := c.sh(d.BoxID, "cat /root/state"); out != "state\n" {
		t.Errorf("disk after auto-stop and wake: %q", out)
	}
	if got := devboxEventTypes(c, "sleepy"); got != "created,started,auto_stopped,auto_started" {
		t.Errorf("history: %s", got)
	}
}
