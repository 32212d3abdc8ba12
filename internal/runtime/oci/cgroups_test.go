package oci

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// These tests run the cgroup code over fake hierarchies, so that the v2
// paths are covered on a v1 host and the other way round.

func TestDetectLayouts(t *testing.T) {
	v2 := &cgroups{v1: map[string]string{}}
	v2.addMount("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot")
	if v2.unified != "/sys/fs/cgroup" || len(v2.v1) != 0 {
		t.Errorf("v2: %+v", v2)
	}
	if d := (&cgroups{v2: true, unified: "/sys/fs/cgroup"}).box("/hogland/b").dir("memory"); d != "/sys/fs/cgroup/hogland/b" {
		t.Errorf("v2 dir = %s", d)
	}

	hy := &cgroups{v1: map[string]string{}}
	for _, l := range []string{
		"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
		"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
		"42 27 0:39 / /mnt/other\\040dir rw - ext4 /dev/vda rw",
	} {
		hy.addMount(l)
	}
	b := hy.box("/hogland/b")
	if b.dir("cpuacct") != "/sys/fs/cgroup/cpu,cpuacct/hogland/b" || b.dir("memory") != "/sys/fs/cgroup/memory/hogland/b" {
		t.Errorf("v1 dirs: %s %s", b.dir("cpuacct"), b.dir("memory"))
	}
	if len(hy.mounts) != 4 || hy.unified != "/sys/fs/cgroup/unified" || b.dir("freezer") != "" {
		t.Errorf("hybrid: %+v", hy)
	}
}

// fakeTree writes files under dir.
func fakeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsV2(t *testing.T) {
	root := t.TempDir()
	fakeTree(t, filepath.Join(root, "hogland/b"), map[string]string{
		"cpu.stat":       "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
		"memory.current": "110100480\n",
		"memory.max":     "268435456\n",
		"memory.stat":    "anon 50000000\nfile 60000000\ninactive_file 5242880\n",
		"memory.events":  "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n",
		"pids.current":   "12\n",
		"cgroup.events":  "populated 1\nfrozen 0\n",
		"cgroup.procs":   "1\n2\n",
	})
	c := &cgroups{v2: true, unified: root, mounts: []string{root}}
	s, err := c.box("/hogland/b").stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUUsage != 1500*time.Millisecond || s.MemoryBytes != 100<<20 || s.MemoryLimit != 256<<20 || s.OOMKills != 2 || s.Pids != 12 {
		t.Errorf("stats = %+v", s)
	}
	if pids, _ := c.box("/hogland/b").procs(); len(pids) != 2 {
		t.Errorf("procs = %v", pids)
	}
	if err := os.WriteFile(filepath.Join(root, "hogland/b/memory.max"), []byte("max\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.box("/hogland/b").stats(); s.MemoryLimit != 0 {
		t.Errorf("unlimited memory reads as %d, want 0", s.MemoryLimit)
	}
	if s, err := c.box("/hogland/gone").stats(); err != nil || s.Pids != 0 {
		t.Errorf("missing cgroup: %+v, %v", s, err)
	}
}

func TestFreezerV2(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "hogland/b")
	fakeTree(t, dir, map[string]string{"cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 1\n"})
	b := (&cgroups{v2: true, unified: root}).box("/hogland/b")
	if err := b.setFrozen(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if v, _ := os.ReadFile(filepath.Join(dir, "cgroup.freeze")); string(v) != "1" {
		t.Errorf("cgroup.freeze = %q", v)
	}
	if frozen, err := b.frozen(); !frozen || err != nil {
		t.Errorf("frozen = %v, %v", frozen, err)
	}
	// The kernel never reports thawed: the wait ends with the context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.setFrozen(ctx, false); err == nil {
		t.Error("thaw that never settles succeeded")
	}
}

func TestStatsV1(t *testing.T) {
	root := t.TempDir()
	c := &cgroups{v1: map[string]string{}}
	for _, ctl := range []string{"cpuacct", "memory", "pids", "freezer"} {
		c.v1[ctl] = filepath.Join(root, ctl)
		c.mounts = append(c.mounts, c.v1[ctl])
	}
	fakeTree(t, filepath.Join(root, "cpuacct/hogland/b"), map[string]string{"cpuacct.usage": "2000000000\n"})
	fakeTree(t, filepath.Join(root, "memory/hogland/b"), map[string]string{
		"memory.usage_in_bytes": "20971520\n",
		"memory.limit_in_bytes": "9223372036854771712\n",
		"memory.stat":           "cache 0\ntotal_inactive_file 10485760\n",
		"memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
	})
	fakeTree(t, filepath.Join(root, "pids/hogland/b"), map[string]string{"pids.current": "5\n"})
	fakeTree(t, filepath.Join(root, "freezer/hogland/b"), map[string]string{"freezer.state": "THAWED\n"})
	b := c.box("/hogland/b")
	s, err := b.stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUUsage != 2*time.Second || s.MemoryBytes != 10<<20 || s.MemoryLimit != 0 || s.OOMKills != 3 || s.Pids != 5 {
		t.Errorf("stats = %+v", s)
	}
	if err := b.setFrozen(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if frozen, _ := b.frozen(); !frozen {
		t.Error("not frozen")
	}
	if err := c.box("/hogland/gone").removeDirs(); err != nil {
		t.Errorf("removeDirs of a missing cgroup: %v", err)
	}
}
