package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// memBatch is how many boxes are created (and destroyed) at once.
const memBatch = 10

// sumCgroups reads the memory of each cgroup path and sums it.
func sumCgroups(paths []string) (sum CgroupMem, per []float64, err error) {
	for _, p := range paths {
		m, err := cgroupMemory(p)
		if err != nil {
			return sum, nil, fmt.Errorf("cgroup %s: %w", p, err)
		}
		sum.Usage += m.Usage
		sum.Anon += m.Anon
		sum.File += m.File
		per = append(per, float64(m.Usage)/(1<<20))
	}
	return sum, per, nil
}

func (x *runner) benchMemory(ctx context.Context) error {
	p, n := x.plane, x.cfg.Boxes
	settle := 3 * time.Second
	if x.cfg.Quick {
		settle = time.Second
	}
	if err := p.DestroyAll(ctx); err != nil {
		return err
	}

	k := min(memBatch, n)
	x.progress("memory: baseline: %d detached `runc run` sleep containers", k)
	var sleepers []string
	removeSleepers := func() error {
		var errs []error
		for _, id := range sleepers {
			errs = append(errs, x.runc.Remove(context.WithoutCancel(ctx), id))
		}
		sleepers = nil
		return errors.Join(errs...)
	}
	defer func() { _ = removeSleepers() }()
	for range k {
		id, err := x.runc.StartSleeper(ctx)
		if err != nil {
			return err
		}
		sleepers = append(sleepers, id)
	}
	time.Sleep(settle)
	paths := make([]string, len(sleepers))
	for i, id := range sleepers {
		paths[i] = "/" + id
	}
	base, basePer, err := sumCgroups(paths)
	if err != nil {
		return err
	}
	if err := removeSleepers(); err != nil {
		return err
	}

	x.progress("memory: creating %d boxes, %d at a time", n, memBatch)
	availBefore, err := memAvailable()
	if err != nil {
		return err
	}
	rssBefore, err := processRSS(p.Pid())
	if err != nil {
		return err
	}
	ids := make([]string, n)
	var mu sync.Mutex
	start := time.Now()
	var createErr error
	for lo := 0; lo < n && createErr == nil; lo += memBatch {
		hi := min(lo+memBatch, n)
		_, createErr = parallel(hi-lo, func(i int) error {
			b, err := p.CreateBox(ctx, x.cfg.Image)
			mu.Lock()
			ids[lo+i] = b.ID
			mu.Unlock()
			return err
		})
	}
	createWall := time.Since(start)
	destroy := func() error {
		x.progress("memory: destroying %d boxes, %d at a time", n, memBatch)
		return deleteAll(context.WithoutCancel(ctx), p, ids, memBatch)
	}
	if createErr != nil {
		return errors.Join(createErr, destroy())
	}
	time.Sleep(settle)
	paths = make([]string, n)
	for i, id := range ids {
		paths[i] = CgroupPath(id)
	}
	boxes, boxPer, err := sumCgroups(paths)
	availAfter, aerr := memAvailable()
	rssAfter, rerr := processRSS(p.Pid())
	if err = errors.Join(err, aerr, rerr, destroy()); err != nil {
		return err
	}

	r := x.rep
	const sec = "idle memory"
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	r.series("box_cgroup_mib", boxPer)
	r.series("runc_sleeper_cgroup_mib", basePer)
	perBox := mib(boxes.Usage) / float64(n)
	perSleeper := mib(base.Usage) / float64(k)
	r.add(
		newFigure(sec, "box_cgroup_mib", fmt.Sprintf("cgroup memory per box, mean of %d idle boxes", n), "MiB", perBox).
			vs(fmt.Sprintf("`runc run -d` trivial sleep container, mean of %d", k), perSleeper),
		newFigure(sec, "host_available_drop_mib", fmt.Sprintf("host MemAvailable drop per box over %d boxes", n), "MiB", mib(availBefore-availAfter)/float64(n)).
			note("shared machine: noisy"),
		newFigure(sec, "plane_rss_growth_mib", fmt.Sprintf("hogplane RSS growth per box over %d boxes", n), "MiB", mib(rssAfter-rssBefore)/float64(n)),
	)
	r.addBreak(
		newFigure(sec, "box_anon_mib", "per box: anonymous memory (rss) in its cgroup", "MiB", mib(boxes.Anon)/float64(n)).
			vs("sleep container", mib(base.Anon)/float64(k)),
		newFigure(sec, "box_file_mib", "per box: page cache charged to its cgroup", "MiB", mib(boxes.File)/float64(n)).
			vs("sleep container", mib(base.File)/float64(k)),
		newFigure(sec, "create_batched_wall_s", fmt.Sprintf("creating the %d boxes, %d at a time, wall time", n, memBatch), "s", createWall.Seconds()),
	)
	return nil
}
