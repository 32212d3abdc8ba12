package oci

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/runtime"
)

// Stats reads box id's resource use from its cgroup (nothing spawned) and
// the space used on its disk. A stopped box whose cgroup is gone reads as
// zero use.
func (d *Driver) Stats(ctx context.Context, id string) (runtime.Stats, error) {
	if err := checkID(id); err != nil {
		return runtime.Stats{}, err
	}
	if !exists(d.boxDir(id)) && !exists(d.containerDir(id)) {
		return runtime.Stats{}, notFound(id)
	}
	s, err := d.cg.box(d.cgroupPath(id)).stats()
	if err != nil {
		return s, fmt.Errorf("stats %s: %w", id, err)
	}
	p := d.paths(id)
	if s.DiskBytes, err = diskUsed(p.dir, p.diskMnt); err != nil {
		return s, fmt.Errorf("stats %s: %w", id, err)
	}
	return s, nil
}

// diskUsed is the space used on the filesystem mounted at mnt, or 0 if
// nothing is mounted there (mnt is on the same device as its parent dir).
func diskUsed(parent, mnt string) (int64, error) {
	var pst, mst unix.Stat_t
	if err := unix.Stat(parent, &pst); err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	if err := unix.Stat(mnt, &mst); err != nil || mst.Dev == pst.Dev {
		return 0, nil
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(mnt, &fs); err != nil {
		return 0, err
	}
	return int64(fs.Blocks-fs.Bfree) * fs.Bsize, nil
}
