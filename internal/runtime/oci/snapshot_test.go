package oci

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/runtime"
)

func TestCaptureLayer(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	createBox(t, d, testSpec(id))
	t.Cleanup(func() { _ = d.Destroy(ctx, id) })
	sh(t, d, id, "mkdir -p /opt/app && echo baked > /opt/app/file && rm /bin/true && dd if=/dev/zero of=/opt/app/big bs=1M count=8 2>/dev/null")
	// A process writing all along: the box must keep running through it.
	sh(t, d, id, "(i=0; while :; do i=$((i+1)); echo $i > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; done) >/dev/null 2>&1 &")
	time.Sleep(100 * time.Millisecond)

	dir := filepath.Join(t.TempDir(), "layer")
	c, err := d.CaptureLayer(ctx, id, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Paused <= 0 {
		t.Errorf("paused %v: a running box is captured under a freeze", c.Paused)
	}
	if c.FrozenBytes > 1<<20 {
		t.Errorf("copied %d bytes while frozen: the 8 MiB settled file should have been copied before", c.FrozenBytes)
	}
	t.Logf("capture: %+v", c)
	if b, err := os.ReadFile(dir + "/opt/app/file"); err != nil || string(b) != "baked\n" {
		t.Errorf("captured file: %q %v", b, err)
	}
	if fi, err := os.Lstat(dir + "/bin/true"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("deleted /bin/true is not a whiteout in the layer: %v %v", fi, err)
	}
	if st, err := d.State(ctx, id); err != nil || st != runtime.StateRunning {
		t.Fatalf("after capture the box is %v, %v", st, err)
	}
	t1 := sh(t, d, id, "cat /tmp/tick")
	for deadline := time.Now().Add(5 * time.Second); sh(t, d, id, "cat /tmp/tick") == t1; {
		if time.Now().After(deadline) {
			t.Fatal("the writing process stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A paused box is captured without a freeze of ours, and stays paused.
	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	c, err = d.CaptureLayer(ctx, id, filepath.Join(t.TempDir(), "layer2"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Paused != 0 {
		t.Errorf("paused box: Paused = %v, want 0", c.Paused)
	}
	if st, _ := d.State(ctx, id); st != runtime.StatePaused {
		t.Errorf("paused box is %v after capture", st)
	}
}
