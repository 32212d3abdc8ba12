package oci

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/fsuse"
	"github.com/PostHog/hogland/internal/runtime"
)

func TestPauseResume(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	createBox(t, d, testSpec(id))
	sh(t, d, id, "while :; do :; done >/dev/null 2>&1 &")

	cpu := func() time.Duration {
		s, err := d.Stats(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.CPUUsage
	}
	growth := func() time.Duration {
		before := cpu()
		time.Sleep(500 * time.Millisecond)
		return cpu() - before
	}
	// Thresholds are loose: other tests and programs share the CPUs.
	if g := growth(); g < 25*time.Millisecond {
		t.Fatalf("busy loop used only %v of CPU in 500ms", g)
	}
	start := time.Now()
	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("pause took %v", time.Since(start))
	if st, err := d.State(ctx, id); err != nil || st != runtime.StatePaused {
		t.Errorf("State = %v, %v; want paused", st, err)
	}
	if frozen, err := d.cg.box(d.cgroupPath(id)).frozen(); !frozen || err != nil {
		t.Errorf("freezer not frozen: %v", err)
	}
	if g := growth(); g > 2*time.Millisecond {
		t.Errorf("paused box used %v of CPU in 500ms", g)
	}
	if err := d.Pause(ctx, id); err != nil {
		t.Errorf("second Pause: %v", err)
	}
	start = time.Now()
	if err := d.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("resume took %v", time.Since(start))
	if err := d.Resume(ctx, id); err != nil {
		t.Errorf("second Resume: %v", err)
	}
	if st, err := d.State(ctx, id); err != nil || st != runtime.StateRunning {
		t.Errorf("State = %v, %v; want running", st, err)
	}
	if g := growth(); g < 25*time.Millisecond {
		t.Errorf("resumed busy loop used only %v of CPU in 500ms", g)
	}
	if err := health(d, id); err != nil {
		t.Error(err)
	}
}

// TestDestroyPaused destroys a frozen box: its processes must still die.
func TestDestroyPaused(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	createBox(t, d, testSpec(id))
	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, d, id)
}

func TestOOMKill(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	spec := testSpec(id)
	spec.MemoryMiB = 64
	createBox(t, d, spec)

	s, err := d.Stats(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.MemoryLimit != 64<<20 || s.OOMKills != 0 || s.MemoryBytes <= 0 {
		t.Errorf("before: %+v", s)
	}
	// tail keeps the last line, and /dev/zero has no newline.
	res := run(t, d, id, 60, "/bin/sh", "-c", "tail /dev/zero")
	if res.ExitCode == 0 || res.TimedOut {
		t.Errorf("memory hog was not killed: %+v", res)
	}
	if s, err = d.Stats(ctx, id); err != nil || s.OOMKills < 1 {
		t.Errorf("after: %+v, %v; want OOMKills >= 1", s, err)
	}
	if err := health(d, id); err != nil {
		t.Errorf("agent died with the hog: %v", err)
	}
}

func TestForkBomb(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	spec := testSpec(id)
	spec.Pids = 64
	createBox(t, d, spec)

	done := make(chan execResult, 1)
	go func() { done <- run(t, d, id, 3, "/bin/sh", "-c", "f() { f | f & }; f; sleep 10") }()
	var peak int64
	for {
		select {
		case res := <-done:
			if !res.TimedOut && res.ExitCode == 0 {
				t.Errorf("fork bomb ended by itself: %+v", res)
			}
			if peak > 64 {
				t.Errorf("box had %d tasks, limit 64", peak)
			}
			hits, _ := readKey(filepath.Join(d.cg.box(d.cgroupPath(id)).dir("pids"), "pids.events"), "max")
			t.Logf("peak tasks seen %d, forks refused at the limit %d", peak, hits)
			if hits == 0 {
				t.Error("the fork bomb never reached the pids limit")
			}
			waitPids(t, d, id)
			if got := sh(t, d, id, "echo alive"); got != "alive" {
				t.Errorf("after the bomb: %q", got)
			}
			return
		case <-time.After(50 * time.Millisecond):
			if s, err := d.Stats(ctx, id); err == nil {
				peak = max(peak, s.Pids)
			}
		}
	}
}

// waitPids waits for the box's task count to fall back after a bomb.
func waitPids(t *testing.T, d *Driver, id string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := d.Stats(context.Background(), id); s.Pids < 32 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("fork bomb processes did not go away")
}

func TestDiskFull(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	spec := testSpec(id)
	spec.MemoryMiB = 512
	createBox(t, d, spec)

	res := run(t, d, id, 120, "/bin/sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=2048")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "No space left on device") {
		t.Errorf("dd past the disk: %+v", res)
	}
	// What the box holds of the host's disk is everything under its
	// directory on the host's file system (the disk image and the files
	// beside it), not counting the image's own mount. The host's free
	// space would also count whatever other tests write meanwhile.
	used, err := fsuse.Allocated(d.paths(id).dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("box holds %d MiB of the host disk", used>>20)
	if used > 1100<<20 {
		t.Errorf("host lost %d MiB for a 1 GiB box disk", used>>20)
	}
	var st unix.Stat_t
	if err := unix.Stat(d.paths(id).disk, &st); err != nil || st.Blocks*512 > 1<<30 {
		t.Errorf("disk image holds %d MiB (%v)", st.Blocks*512>>20, err)
	}
	s, err := d.Stats(ctx, id)
	if err != nil || s.DiskBytes < 900<<20 {
		t.Errorf("Stats = %+v, %v; want ~1 GiB used", s, err)
	}
	sh(t, d, id, "rm /fill && echo ok > /after")
	if s, _ := d.Stats(ctx, id); s.DiskBytes > 100<<20 {
		t.Errorf("disk still full after rm: %d", s.DiskBytes)
	}
}

// TestStateStopped: a box whose init died is stopped, and Destroy still
// cleans it up.
func TestStateStopped(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	createBox(t, d, testSpec(id))
	infos, err := d.List(ctx)
	if err != nil || len(infos) != 1 || infos[0].Pid <= 0 {
		t.Fatalf("List = %+v, %v", infos, err)
	}
	if err := unix.Kill(infos[0].Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := d.State(ctx, id)
		if err == nil && st == runtime.StateStopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("State = %v, %v; want stopped", st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Pause(ctx, id); err == nil {
		t.Error("Pause of a stopped box succeeded")
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, d, id)
}

// TestDialRefusesSymlink: a box that swaps its socket for a symlink to a
// host socket gets no connection made to that socket.
func TestDialRefusesSymlink(t *testing.T) {
	d := newDriver(t)
	id := newID()
	createBox(t, d, testSpec(id))
	hostSock := filepath.Join(t.TempDir(), "host.sock")
	ln, err := net.Listen("unix", hostSock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sh(t, d, id, "ln -sf "+hostSock+" /.hogland/run/agent.sock")
	conn, err := d.Dial(context.Background(), id)
	if err == nil {
		conn.Close()
		t.Fatal("Dial followed the box's symlink to a host socket")
	}
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("Dial = %v, want Unavailable", err)
	}
}
