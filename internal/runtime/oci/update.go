package oci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

// Update sets a running (or paused) box's CPU, memory and task limits to
// what Create would have set for the same values: a CFS quota of r.CPUs
// whole CPUs, r.MemoryMiB of memory with no swap beyond it, r.Pids tasks.
// With runc it writes the box's cgroup files directly (runc keeps no copy
// of the limits it needs later); other runtimes get `<runtime> update`.
func (d *Driver) Update(ctx context.Context, id string, r runtime.Resources) error {
	if err := checkID(id); err != nil {
		return err
	}
	if r.CPUs < 0 || r.MemoryMiB < 0 || r.Pids < 0 {
		return errs.New(errs.Invalid, "negative limits: cpus %d, memory %d MiB, pids %d", r.CPUs, r.MemoryMiB, r.Pids)
	}
	st, err := d.status(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("update %s: %w", id, err)
	case !st.exists:
		return notFound(id)
	case st.state != runtime.StateRunning && st.state != runtime.StatePaused:
		return errs.New(errs.Conflict, "box %s is %s, cannot change its limits", id, st.state)
	}
	if r.Pids == 0 {
		r.Pids = defaultPids
	}
	if d.cfg.Runtime == "runc" {
		err = d.cg.box(d.cgroupPath(id)).setLimits(r)
	} else {
		_, err = d.runtimeExec(ctx, append(append([]string{"update"}, updateFlags(r)...), id)...)
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	return nil
}

// updateFlags are `runc update` flags (crun takes the same) for r.
func updateFlags(r runtime.Resources) []string {
	quota, mem := int64(-1), int64(-1)
	if r.CPUs > 0 {
		quota = r.CPUs * cpuPeriod
	}
	if r.MemoryMiB > 0 {
		mem = r.MemoryMiB << 20
	}
	return []string{
		"--cpu-period", strconv.Itoa(cpuPeriod), "--cpu-quota", strconv.FormatInt(quota, 10),
		"--memory", strconv.FormatInt(mem, 10), "--memory-swap", strconv.FormatInt(mem, 10),
		"--pids-limit", strconv.FormatInt(r.Pids, 10),
	}
}

// setLimits writes r to the box's cgroup files.
func (b boxCgroup) setLimits(r runtime.Resources) error {
	if b.c.v2 {
		return b.setLimitsV2(r)
	}
	return b.setLimitsV1(r)
}

func (b boxCgroup) setLimitsV1(r runtime.Resources) error {
	cpu, mem, pids := b.dir("cpu"), b.dir("memory"), b.dir("pids")
	quota := "-1"
	if r.CPUs > 0 {
		quota = strconv.FormatInt(r.CPUs*cpuPeriod, 10)
	}
	if err := writeCgroup(cpu, "cpu.cfs_period_us", strconv.Itoa(cpuPeriod)); err != nil {
		return err
	}
	if err := writeCgroup(cpu, "cpu.cfs_quota_us", quota); err != nil {
		return err
	}
	// memory.memsw.limit_in_bytes (memory + swap) may never be below
	// memory.limit_in_bytes: raise memsw first, lower it last. It is
	// missing where the kernel does not account swap.
	limit := int64(-1)
	if r.MemoryMiB > 0 {
		limit = r.MemoryMiB << 20
	}
	cur, err := readInt(filepath.Join(mem, "memory.limit_in_bytes"))
	if err != nil {
		return err
	}
	memsw := filepath.Join(mem, "memory.memsw.limit_in_bytes")
	_, swErr := os.Stat(memsw)
	hasSwap := swErr == nil
	val := strconv.FormatInt(limit, 10)
	raising := limit < 0 || limit > cur
	if hasSwap && raising {
		if err := writeCgroup(mem, "memory.memsw.limit_in_bytes", val); err != nil {
			return err
		}
	}
	if err := writeCgroup(mem, "memory.limit_in_bytes", val); err != nil {
		return err
	}
	if hasSwap && !raising {
		if err := writeCgroup(mem, "memory.memsw.limit_in_bytes", val); err != nil {
			return err
		}
	}
	if pids == "" {
		return nil
	}
	return writeCgroup(pids, "pids.max", strconv.FormatInt(r.Pids, 10))
}

func (b boxCgroup) setLimitsV2(r runtime.Resources) error {
	dir := b.dir("")
	quota := "max"
	if r.CPUs > 0 {
		quota = strconv.FormatInt(r.CPUs*cpuPeriod, 10)
	}
	if err := writeCgroup(dir, "cpu.max", quota+" "+strconv.Itoa(cpuPeriod)); err != nil {
		return err
	}
	limit, swap := "max", "max"
	if r.MemoryMiB > 0 {
		limit, swap = strconv.FormatInt(r.MemoryMiB<<20, 10), "0"
	}
	if err := writeCgroup(dir, "memory.max", limit); err != nil {
		return err
	}
	if err := writeCgroup(dir, "memory.swap.max", swap); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeCgroup(dir, "pids.max", strconv.FormatInt(r.Pids, 10))
}

// writeCgroup writes val to the cgroup file dir/name. The kernel refuses
// a memory limit below current use with EBUSY; that is errs.Conflict.
func writeCgroup(dir, name, val string) error {
	if dir == "" {
		return fmt.Errorf("no cgroup directory for %s", name)
	}
	err := os.WriteFile(filepath.Join(dir, name), []byte(val), 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return errs.Wrap(errs.Conflict, err, "the box uses more than the new %s", name)
		}
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}
