package oci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/mountinfo"
)

// killTimeout bounds the wait for a box's processes to die and its
// cgroups to empty.
const killTimeout = 10 * time.Second

// Destroy kills every process of box id, deletes its container, removes
// its cgroups, unmounts its root and disk (which frees the loop device),
// and removes its directories. Each step does what is left to do, so
// Destroy finishes a half-made or half-destroyed box, and destroying a
// missing box succeeds. It runs to the end even if ctx is cancelled: a
// box left half-destroyed is worse than a late return.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	if checkID(id) != nil {
		return nil // no box can have this id
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	start := time.Now()
	p := d.paths(id)
	var errs []error
	step := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	step("kill", d.killBox(ctx, id))
	step("delete container", d.deleteContainer(ctx, id))
	step("remove cgroup", d.removeCgroup(ctx, id))
	step("unmount", unmountAll(p.dir))
	step("detach loop", detachLoops(p.disk))
	step("remove run link", removeIfExists(d.runLink(id)))
	if len(errs) == 0 {
		step("remove box dir", removeBoxDir(p.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy %s: %w", id, err)
	}
	d.log.Info("box destroyed", "box", id, "took", time.Since(start).Round(time.Microsecond))
	return nil
}

// killBox SIGKILLs the box's init (which takes every process of its pid
// namespace with it) and then anything else left in its cgroup, thawing
// it first: frozen tasks do not die on v1.
func (d *Driver) killBox(ctx context.Context, id string) error {
	cg := d.cg.box(d.cgroupPath(id))
	if frozen, _ := cg.frozen(); frozen {
		if err := cg.setFrozen(ctx, false); err != nil {
			return fmt.Errorf("thaw: %w", err)
		}
	}
	if pid, start, err := readRuncState(d.containerDir(id)); err == nil {
		if err := killAndWait(pid, start); err != nil {
			return err
		}
	}
	return killCgroup(ctx, cg)
}

// killAndWait SIGKILLs pid, if it is still the process that started at
// start, through a pidfd (so a reused pid is never hit), and waits for it
// to exit.
func killAndWait(pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if !procAlive(pid, start) {
		return nil // exited, or the pid is someone else's now
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(killTimeout)
	for time.Now().Before(deadline) {
		n, err := unix.Poll(fds, int(time.Until(deadline)/time.Millisecond)+1)
		if n > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait %d: %w", pid, err)
		}
	}
	return fmt.Errorf("init %d did not exit in %v", pid, killTimeout)
}

// killCgroup SIGKILLs every process in the cgroup until none is left.
func killCgroup(ctx context.Context, cg boxCgroup) error {
	deadline := time.Now().Add(killTimeout)
	for {
		pids, err := cg.procs()
		if err != nil || len(pids) == 0 {
			return err
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes left after %v", len(pids), killTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// deleteContainer removes the runtime's record of the container. If the
// runtime fails to, and it is runc, its state dir is removed directly
// (the processes and cgroups are dealt with apart).
func (d *Driver) deleteContainer(ctx context.Context, id string) error {
	dir := d.containerDir(id)
	if !exists(dir) {
		return nil
	}
	_, err := d.runtimeExec(ctx, "delete", "--force", id)
	if err == nil || !exists(dir) {
		return nil
	}
	if d.cfg.Runtime != "runc" {
		return err
	}
	d.log.Warn("runtime delete failed; removing its state directly", "box", id, "err", err)
	return os.RemoveAll(dir)
}

// removeCgroup removes the box's cgroup directories, retrying while they
// are busy with exiting processes.
func (d *Driver) removeCgroup(ctx context.Context, id string) error {
	cg := d.cg.box(d.cgroupPath(id))
	deadline := time.Now().Add(killTimeout)
	for {
		err := cg.removeDirs()
		if err == nil || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// removeBoxDir removes the box dir, but never while anything is mounted
// under it: that would delete into the box's disk or the image layers.
func removeBoxDir(dir string) error {
	mounts, err := mountinfo.Under(dir)
	if err != nil {
		return err
	}
	if len(mounts) > 0 {
		return fmt.Errorf("still mounted: %v", mounts)
	}
	return os.RemoveAll(dir)
}

func removeIfExists(p string) error {
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
