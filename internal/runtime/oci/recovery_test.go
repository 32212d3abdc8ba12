package oci

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

func TestCreateConflictAndInvalid(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	id := newID()
	createBox(t, d, testSpec(id))
	if err := d.Create(ctx, testSpec(id)); !errs.Is(err, errs.Conflict) {
		t.Errorf("second Create = %v, want Conflict", err)
	}
	if err := health(d, id); err != nil {
		t.Errorf("the first box suffered from the conflict: %v", err)
	}
	bad := map[string]func(*runtime.Spec){
		"id":     func(s *runtime.Spec) { s.ID = "../etc" },
		"disk":   func(s *runtime.Spec) { s.DiskGiB = 0 },
		"layers": func(s *runtime.Spec) { s.Layers = []string{"/nonexistent"} },
		"comma":  func(s *runtime.Spec) { s.Layers = []string{"/tmp/a,upperdir=/"} },
		"agent":  func(s *runtime.Spec) { s.AgentPath = "relative" },
	}
	for name, mutate := range bad {
		spec := testSpec(newID())
		mutate(&spec)
		if err := d.Create(ctx, spec); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: Create = %v, want Invalid", name, err)
		}
	}
}

// TestCreateFailureLeavesNothing: a Create that fails at the runtime, or
// whose context ends, undoes all it made.
func TestCreateFailureLeavesNothing(t *testing.T) {
	d := newDriver(t)
	notExec := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(notExec, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := newID()
	spec := testSpec(id)
	spec.AgentPath = notExec
	err := d.Create(context.Background(), spec)
	if err == nil {
		t.Fatal("Create with a non-executable agent succeeded")
	}
	t.Logf("Create: %v", err)
	assertGone(t, d, id)

	for _, after := range []time.Duration{0, 5, 20, 40, 60, 80} {
		after *= time.Millisecond
		id := newID()
		ctx, cancel := context.WithTimeout(context.Background(), after)
		err := d.Create(ctx, testSpec(id))
		cancel()
		if err != nil {
			assertGone(t, d, id)
		} else if err := d.Destroy(context.Background(), id); err != nil {
			t.Error(err)
		}
	}
}

// TestDestroyHalfMade destroys a box whose disk and root are mounted but
// whose container was never started, as a crash in Create leaves it.
func TestDestroyHalfMade(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	id := newID()
	halfMake(t, d, id)
	if st, err := d.State(ctx, id); err != nil || st != runtime.StateStopped {
		t.Errorf("State = %v, %v; want stopped", st, err)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, d, id)
	if err := d.Destroy(ctx, id); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// halfMake makes box id's dir, disk and overlay root, but no container.
func halfMake(t *testing.T, d *Driver, id string) {
	t.Helper()
	p := d.paths(id)
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.makeDisk(context.Background(), 1, p); err != nil {
		t.Fatal(err)
	}
	if err := mountOverlay([]string{busyboxRoot}, p); err != nil {
		t.Fatal(err)
	}
}

// TestRestartAndLeftovers: a new driver over the same dirs (as after a
// restart of hogplane) finds the running box, a half-made one and a
// container it never made, and Cleanup removes all but the claimed one.
func TestRestartAndLeftovers(t *testing.T) {
	d1 := newDriver(t)
	ctx := context.Background()
	id := newID()
	createBox(t, d1, testSpec(id))

	d, err := New(d1.cfg)
	if err != nil {
		t.Fatal(err)
	}
	half, stray := newID(), newID()
	halfMake(t, d, half)
	runStray(t, d, stray)

	infos, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]runtime.Info{}
	for _, i := range infos {
		got[i.ID] = i
	}
	if i := got[id]; i.State != runtime.StateRunning || i.Pid <= 0 {
		t.Errorf("box: %+v", i)
	}
	if i := got[half]; i.State != runtime.StateStopped {
		t.Errorf("half-made box: %+v", i)
	}
	if i := got[stray]; i.State != runtime.StateRunning {
		t.Errorf("stray container: %+v", i)
	}
	if len(infos) != 3 {
		t.Errorf("List = %+v, want 3 boxes", infos)
	}
	if err := health(d, id); err != nil {
		t.Errorf("new driver cannot reach the box: %v", err)
	}

	if err := d.Cleanup(ctx, func(b string) bool { return b == id }); err != nil {
		t.Fatal(err)
	}
	assertGone(t, d, half)
	assertGone(t, d, stray)
	if infos, _ := d.List(ctx); len(infos) != 1 || infos[0].ID != id {
		t.Errorf("after Cleanup, List = %+v", infos)
	}
	if err := health(d, id); err != nil {
		t.Errorf("Cleanup hurt the claimed box: %v", err)
	}
}

// runStray starts a container under the driver's runtime root that the
// driver did not make: no box dir, a read-only busybox root.
func runStray(t *testing.T, d *Driver, id string) {
	t.Helper()
	s, err := d.bundleSpec(testSpec(id), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Root = &specs.Root{Path: busyboxRoot, Readonly: true}
	s.Mounts = s.Mounts[:len(s.Mounts)-2] // no agent, no run dir
	s.Process.Args = []string{"/bin/sleep", "1000"}
	bundle := t.TempDir()
	data, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Output to /dev/null: the container would hold a pipe open.
	cmd := d.runtimeCmd(context.Background(), nil, "run", "--detach", "--bundle", bundle, id)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
}
