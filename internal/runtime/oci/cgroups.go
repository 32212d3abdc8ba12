package oci

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/mountinfo"
)

// cgroups is the host's cgroup layout: pure v2 (one unified hierarchy) or
// v1, possibly hybrid (a controller-less cgroup2 at .../unified beside the
// v1 hierarchies). Box cgroups are read and written through it directly,
// not through the runtime, so that State, Stats, Pause and Resume cost no
// process spawn.
type cgroups struct {
	// v2 is true when the unified hierarchy holds the controllers.
	v2 bool
	// unified is the cgroup2 mount point, or "" (v1 without one).
	unified string
	// v1 maps a v1 controller (or name=...) to its hierarchy's mount point.
	v1 map[string]string
	// mounts are every cgroup hierarchy's mount point, each once.
	mounts []string
}

// v1Controllers are the controller names a v1 mount may carry.
var v1Controllers = []string{
	"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio",
	"net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc",
}

// detectCgroups reads /proc/self/mountinfo for the cgroup hierarchies.
func detectCgroups() (*cgroups, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &cgroups{v1: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		c.addMount(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Like runc: the host is cgroup v2 when /sys/fs/cgroup itself is
	// cgroup2 (v1 named hierarchies may still be mounted beside it).
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		c.v2, c.unified = true, "/sys/fs/cgroup"
	}
	if !c.v2 && c.v1["memory"] == "" {
		return nil, errors.New("no cgroup hierarchy with the memory controller found")
	}
	return c, nil
}

// addMount records one mountinfo line if it is a cgroup hierarchy.
func (c *cgroups) addMount(line string) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok {
		return
	}
	pf, qf := strings.Fields(pre), strings.Fields(post)
	if len(pf) < 5 || len(qf) < 3 {
		return
	}
	point := mountinfo.Unescape(pf[4])
	switch qf[0] {
	case "cgroup2":
		if c.unified == "" {
			c.unified = point
			c.mounts = append(c.mounts, point)
		}
	case "cgroup":
		added := false
		for opt := range strings.SplitSeq(qf[2], ",") {
			if !slices.Contains(v1Controllers, opt) && !strings.HasPrefix(opt, "name=") {
				continue
			}
			if _, dup := c.v1[opt]; !dup {
				c.v1[opt] = point
				added = true
			}
		}
		if added {
			c.mounts = append(c.mounts, point)
		}
	}
}

// box is the cgroup at path (absolute, as in the OCI spec's cgroupsPath).
func (c *cgroups) box(path string) boxCgroup { return boxCgroup{c: c, path: path} }

// boxCgroup is one box's cgroup across the hierarchies.
type boxCgroup struct {
	c    *cgroups
	path string
}

// dir is the box's directory in the hierarchy of controller (v1), or in
// the unified hierarchy (v2, controller ignored). "" if there is none.
func (b boxCgroup) dir(controller string) string {
	if b.c.v2 {
		return filepath.Join(b.c.unified, b.path)
	}
	mnt := b.c.v1[controller]
	if mnt == "" {
		return ""
	}
	return filepath.Join(mnt, b.path)
}

// dirs are the box's directories in every hierarchy, existing or not.
func (b boxCgroup) dirs() []string {
	out := make([]string, 0, len(b.c.mounts))
	for _, m := range b.c.mounts {
		out = append(out, filepath.Join(m, b.path))
	}
	return out
}

// procsDir is a directory whose cgroup.procs lists every process of the
// box.
func (b boxCgroup) procsDir() string {
	for _, ctl := range []string{"pids", "freezer", "memory"} {
		if d := b.dir(ctl); d != "" {
			return d
		}
	}
	return ""
}

// removeDirs removes the box's cgroup directories in every hierarchy,
// children first. Missing ones are fine; a cgroup that still has
// processes fails with EBUSY.
func (b boxCgroup) removeDirs() error {
	var errs []error
	for _, d := range b.dirs() {
		if err := removeCgroupTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree rmdirs dir and any child cgroups, deepest first.
func removeCgroupTree(dir string) error {
	var sub []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			sub = append(sub, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("walk %s: %w", dir, err)
	}
	for _, p := range slices.Backward(sub) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
