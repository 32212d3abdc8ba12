package oci

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

func TestBoxLifecycle(t *testing.T) {
	d := newDriver(t)
	id := newID()
	ctx := context.Background()
	createBox(t, d, testSpec(id))

	if st, err := d.State(ctx, id); err != nil || st != runtime.StateRunning {
		t.Errorf("State = %v, %v; want running", st, err)
	}
	if err := health(d, id); err != nil {
		t.Fatal(err)
	}
	if got := sh(t, d, id, "hostname"); got != id {
		t.Errorf("hostname = %q, want %q", got, id)
	}
	env := sh(t, d, id, "env")
	for _, want := range []string{"HOME=/root", "HOSTNAME=" + id, "HOGLAND_TEST=1", "PATH=/usr/local/sbin:"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %s:\n%s", want, env)
		}
	}
	if got := sh(t, d, id, "readlink /proc/1/cwd; cat /proc/1/cmdline | tr '\\0' ' '"); got != "/\n"+agentPath+" init --listen "+agentListen {
		t.Errorf("init cwd and command: %q", got)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, d, id)
	if err := d.Destroy(ctx, id); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if _, err := d.State(ctx, id); !errs.Is(err, errs.NotFound) {
		t.Errorf("State after Destroy = %v, want NotFound", err)
	}
	if _, err := d.Dial(ctx, id); !errs.Is(err, errs.NotFound) {
		t.Errorf("Dial after Destroy = %v, want NotFound", err)
	}
}

func TestIsolation(t *testing.T) {
	d := newDriver(t)
	id := newID()
	createBox(t, d, testSpec(id))

	t.Run("network is loopback only and up", func(t *testing.T) {
		if got := sh(t, d, id, "ls /sys/class/net"); got != "lo" {
			t.Errorf("interfaces = %q, want lo only", got)
		}
		flags, err := strconv.ParseInt(sh(t, d, id, "cat /sys/class/net/lo/flags"), 0, 64)
		if err != nil || flags&1 == 0 {
			t.Errorf("lo flags = %#x, %v: not UP", flags, err)
		}
		if got := sh(t, d, id, "ip -o link"); !strings.Contains(got, "UP") || strings.Count(got, "\n") != 0 {
			t.Errorf("ip link = %q", got)
		}
	})
	t.Run("host files are invisible", func(t *testing.T) {
		secret := filepath.Join("/tmp", "hogland-secret-"+id)
		if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(secret)
		res := run(t, d, id, 10, "/bin/sh", "-c", "test -e "+secret)
		if res.ExitCode == 0 {
			t.Errorf("box sees host file %s", secret)
		}
		if got := sh(t, d, id, "ls -A / | tr '\\n' ' '"); strings.Contains(got, "work") || strings.Contains(got, "home") {
			t.Errorf("box root = %q", got)
		}
	})
	t.Run("agent mounts", func(t *testing.T) {
		res := run(t, d, id, 10, "/bin/sh", "-c", "echo x > /.hogland/bin/hogpanion")
		if res.ExitCode == 0 {
			t.Error("agent binary is writable")
		}
		if res := run(t, d, id, 10, "/bin/sh", "-c", "cp /bin/busybox /.hogland/run/bb && /.hogland/run/bb true"); res.ExitCode == 0 {
			t.Error("run dir allows exec")
		}
		if got := sh(t, d, id, "ls /.hogland/run"); !strings.Contains(got, "agent.sock") {
			t.Errorf("run dir = %q", got)
		}
	})
	t.Run("hardening", func(t *testing.T) {
		status := sh(t, d, id, "cat /proc/self/status")
		for _, want := range []string{"NoNewPrivs:\t1", "Seccomp:\t2", "CapBnd:\t00000000a80425fb"} {
			if !strings.Contains(status, want) {
				t.Errorf("status lacks %q", want)
			}
		}
		if res := run(t, d, id, 10, "/bin/sh", "-c", "cat /proc/kcore | head -c1"); res.Stdout != "" {
			t.Error("/proc/kcore is readable")
		}
		if res := run(t, d, id, 10, "/bin/sh", "-c", "echo 1 > /proc/sys/kernel/panic"); res.ExitCode == 0 {
			t.Error("/proc/sys is writable")
		}
		if res := run(t, d, id, 10, "/bin/sh", "-c", "mount -t tmpfs x /mnt"); res.ExitCode == 0 {
			t.Error("mount works in the box")
		}
	})
	t.Run("own cgroup", func(t *testing.T) {
		if got := sh(t, d, id, "cat /proc/self/cgroup"); strings.Contains(got, cgroupParent) {
			t.Errorf("cgroup namespace not in effect:\n%s", got)
		}
		limit, swap, quota, pids := boxLimits(t, d, id)
		if limit != strconv.Itoa(256<<20) || swap != "0" || pids != "256" {
			t.Errorf("in box: memory limit %s, swap %s, pids %s", limit, swap, pids)
		}
		if !strings.HasPrefix(quota, "100000") {
			t.Errorf("cpu quota in box = %s", quota)
		}
	})
	t.Run("update limits", func(t *testing.T) {
		ctx := context.Background()
		for _, r := range []runtime.Resources{{CPUs: 2, MemoryMiB: 512, Pids: 300}, {CPUs: 1, MemoryMiB: 128, Pids: 100}} {
			if err := d.Update(ctx, id, r); err != nil {
				t.Fatalf("update to %+v: %v", r, err)
			}
			limit, swap, quota, pids := boxLimits(t, d, id)
			if limit != strconv.FormatInt(r.MemoryMiB<<20, 10) || swap != "0" || pids != strconv.FormatInt(r.Pids, 10) {
				t.Errorf("after update to %+v: memory limit %s, swap %s, pids %s", r, limit, swap, pids)
			}
			if !strings.HasPrefix(quota, strconv.FormatInt(r.CPUs*100000, 10)) {
				t.Errorf("after update to %+v: cpu quota %s", r, quota)
			}
		}
		if err := d.Update(ctx, "box-000000000000", runtime.Resources{CPUs: 1}); !errs.Is(err, errs.NotFound) {
			t.Errorf("update of a missing box: %v, want not found", err)
		}
		if err := d.Update(ctx, id, runtime.Resources{CPUs: -1}); !errs.Is(err, errs.Invalid) {
			t.Errorf("update with negative CPUs: %v, want invalid", err)
		}
	})
}

// TestConcurrentBoxes creates and destroys boxes in parallel: loop
// devices, templates and cgroups must not collide.
func TestConcurrentBoxes(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = newID()
	}
	parallel(t, ids, func(id string) error {
		spec := testSpec(id)
		spec.DiskGiB = 2 // a size no other test formatted yet: one template for all
		if err := d.Create(ctx, spec); err != nil {
			return err
		}
		waitAgent(t, d, id)
		return health(d, id)
	})
	if infos, err := d.List(ctx); err != nil || len(infos) != len(ids) {
		t.Errorf("List = %+v, %v", infos, err)
	}
	parallel(t, ids, func(id string) error { return d.Destroy(ctx, id) })
	for _, id := range ids {
		assertGone(t, d, id)
	}
}

func parallel(t *testing.T, ids []string, f func(id string) error) {
	t.Helper()
	errc := make(chan error, len(ids))
	for _, id := range ids {
		go func() { errc <- f(id) }()
	}
	for range ids {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// boxLimits reads the memory limit, the swap allowed beyond it, the CPU
// quota and the task limit from inside box id.
func boxLimits(t *testing.T, d *Driver, id string) (limit, swap, quota, pids string) {
	t.Helper()
	if d.cg.v2 {
		limit = sh(t, d, id, "cat /sys/fs/cgroup/memory.max")
		swap = sh(t, d, id, "cat /sys/fs/cgroup/memory.swap.max 2>/dev/null || echo 0")
		quota = sh(t, d, id, "cat /sys/fs/cgroup/cpu.max")
		pids = sh(t, d, id, "cat /sys/fs/cgroup/pids.max")
		return
	}
	limit = sh(t, d, id, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
	swap = sh(t, d, id, "cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo "+limit)
	quota = sh(t, d, id, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
	pids = sh(t, d, id, "cat /sys/fs/cgroup/pids/pids.max")
	if swap == limit {
		swap = "0" // memory+swap equal to memory: no swap
	}
	return
}
