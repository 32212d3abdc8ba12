package e2e

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/PostHog/hogland/api"
)

func TestIdleTTL(t *testing.T) {
	t.Parallel() // mostly waiting
	p := startPlane(t)
	c := p.client(p.Token)
	ttl := int64(10)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", TTLSeconds: &ttl})

	// Activity pushes the deadline: exec every 3 s for 15 s, longer than
	// the TTL, and the box lives.
	for i := 0; i < 5; i++ {
		time.Sleep(3 * time.Second)
		c.sh(b.ID, "true")
	}
	// A call that runs longer than the TTL keeps the box alive too.
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"sleep", "12"}, TimeoutSeconds: 30})
	if res.ExitCode != 0 {
		t.Fatalf("long exec: %+v", res)
	}
	var got api.Box
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if got.Status != api.StatusRunning {
		t.Fatalf("box with activity is %s (%s)", got.Status, got.TerminationReason)
	}
	// Reading the box does not extend (or shrink) its deadline.
	exp := *got.ExpiresAt
	time.Sleep(1100 * time.Millisecond)
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if !got.ExpiresAt.Equal(exp) {
		t.Errorf("GET moved expires_at from %s to %s", exp, got.ExpiresAt)
	}
	// Idle, it is reaped.
	got = c.waitStatus(b.ID, api.StatusStopped, 20*time.Second)
	if got.TerminationReason != api.ReasonTTLExpired {
		t.Errorf("reason %q, want ttl_expired", got.TerminationReason)
	}
	var evs api.BoxEventList
	c.must("GET", "/v1/hogboxes/"+b.ID+"/events", nil, &evs, 200)
	var types []string
	for _, e := range evs.Items {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "created,running,ttl_expired" {
		t.Errorf("events %v", types)
	}
	assertNothingLeft(t, p, b.ID)
}

// restart stops a plane with sig and starts another on its data dir.
func restart(t *testing.T, p *plane, sig syscall.Signal) *plane {
	t.Helper()
	return restartWith(t, p, sig, planeOptions{})
}

// restartWith is restart with settings for the new plane.
func restartWith(t *testing.T, p *plane, sig syscall.Signal, o planeOptions) *plane {
	t.Helper()
	p.stop(sig)
	return startPlaneOpts(t, p.DataDir, o)
}

func TestRecoveryAfterSIGKILL(t *testing.T) {
	requireRoot(t)
	p := startPlane(t)
	c := p.client(p.Token)
	running := c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "keeper"})
	paused := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	lost := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	orphan := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	// A long process, and acknowledged writes.
	c.sh(running.ID, "sh -c 'while :; do date +%s > /tmp/tick; sleep 0.2; done' >/dev/null 2>&1 &")
	if status, body := c.writeFile(running.ID, "/data/kept.txt", strings.NewReader("acknowledged"), "&mkdir=true"); status != 200 {
		t.Fatalf("write: %d %s", status, body)
	}
	name := "keeper-renamed"
	c.must("PATCH", "/v1/hogboxes/"+running.ID, api.UpdateBoxRequest{Name: &name}, nil, 200)
	c.must("POST", "/v1/hogboxes/"+paused.ID+"/pause", nil, nil, 200)

	p.stop(syscall.SIGKILL)
	// While hogplane is down, one box loses its processes and another
	// loses its record.
	killBox(t, lost.ID)
	forgetBox(t, p.DataDir, orphan.ID)

	p2 := startPlaneAt(t, p.DataDir)
	c2 := p2.client(p2.Token)
	var got api.Box
	c2.must("GET", "/v1/hogboxes/"+running.ID, nil, &got, 200)
	if got.Status != api.StatusRunning || got.Spec.Name != "keeper-renamed" {
		t.Errorf("running box after restart: %s %q", got.Status, got.Spec.Name)
	}
	if out := c2.sh(running.ID, "cat /data/kept.txt"); out != "acknowledged" {
		t.Errorf("acknowledged file: %q", out)
	}
	// The long process kept running through the restart.
	t1 := c2.sh(running.ID, "cat /tmp/tick")
	time.Sleep(1500 * time.Millisecond)
	if t2 := c2.sh(running.ID, "cat /tmp/tick"); t1 == t2 {
		t.Errorf("the long process stopped: tick %q then %q", t1, t2)
	}
	c2.must("GET", "/v1/hogboxes/"+paused.ID, nil, &got, 200)
	if got.Status != api.StatusPaused {
		t.Errorf("paused box after restart: %s", got.Status)
	}
	c2.must("POST", "/v1/hogboxes/"+paused.ID+"/resume", nil, nil, 200)
	c2.sh(paused.ID, "true")

	got = c2.waitStatus(lost.ID, api.StatusFailed, 10*time.Second)
	if got.TerminationReason != api.ReasonHostLost {
		t.Errorf("box whose processes vanished: reason %q, want host_lost", got.TerminationReason)
	}
	assertNothingLeft(t, p2, lost.ID)
	assertNothingLeft(t, p2, orphan.ID)
}

func TestGracefulStopLeavesBoxesRunning(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "echo before > /tmp/mark")
	p2 := restart(t, p, syscall.SIGTERM)
	c2 := p2.client(p2.Token)
	if out := c2.sh(b.ID, "cat /tmp/mark"); out != "before\n" {
		t.Errorf("after SIGTERM restart: %q", out)
	}
}

// killBox kills every process of a box behind hogplane's back.
func killBox(t *testing.T, id string) {
	t.Helper()
	procs, _ := filepath.Glob("/sys/fs/cgroup/*/hogland/" + id + "/cgroup.procs")
	procs2, _ := filepath.Glob("/sys/fs/cgroup/hogland/" + id + "/cgroup.procs")
	procs = append(procs, procs2...)
	if len(procs) == 0 {
		t.Fatalf("no cgroup for box %s", id)
	}
	b, err := os.ReadFile(procs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		var pid int
		for _, ch := range f {
			pid = pid*10 + int(ch-'0')
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(procs[0]); strings.TrimSpace(string(b)) == "" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("box %s processes did not die", id)
}

// forgetBox deletes a box's record, leaving the box itself as an orphan.
func forgetBox(t *testing.T, dataDir, id string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "hogland.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `DELETE FROM boxes WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
}
