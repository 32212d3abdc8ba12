package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// createSample is one create-to-first-exec.
type createSample struct {
	id string
	// create is POST /v1/hogboxes until its answer; total adds the first
	// exec (`true`) until its answer.
	create, total time.Duration
}

// CreateToFirstExec creates a box and runs `true` in it, timing from
// sending the create to the exec's answer. The box is left running.
func CreateToFirstExec(ctx context.Context, p *Plane, image string) (createSample, error) {
	start := time.Now()
	b, err := p.CreateBox(ctx, image)
	if err != nil {
		if b.ID != "" {
			_ = p.DeleteBox(ctx, b.ID)
		}
		return createSample{}, err
	}
	s := createSample{id: b.ID, create: time.Since(start)}
	if _, err := p.Exec(ctx, b.ID, "true"); err != nil {
		return s, err
	}
	s.total = time.Since(start)
	return s, nil
}

// parallel runs fn(i) for i in [0, n) at once, after a common start, and
// returns the wall time from that start to the last return.
func parallel(n int, fn func(i int) error) (time.Duration, error) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			errs[i] = fn(i)
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

// deleteAll destroys boxes, conc at a time.
func deleteAll(ctx context.Context, p *Plane, ids []string, conc int) error {
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, id := range ids {
		if id == "" {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.DeleteBox(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (x *runner) benchCreate(ctx context.Context) error {
	n, p, rc := x.cfg.N, x.plane, x.runc
	x.progress("create: %d serial creates to first exec, each beside a `runc run` of /bin/true", n)
	// crun, where installed, shows what another runtime would cost.
	crun, err := NewRunc("crun", rc.Rootfs)
	if err == nil {
		defer func() {
			if crun != nil {
				crun.Close()
			}
		}()
	}
	var crunBoxLike []time.Duration
	var runcTrue, runcSeccomp, runcBoxLike, creates, totals, destroys, tooks, afterDriver, firstExec []time.Duration
	for range n {
		d, err := rc.RunTrue(ctx, TrivialSpec)
		if err != nil {
			return err
		}
		runcTrue = append(runcTrue, d)
		if d, err = rc.RunTrue(ctx, SeccompSpec); err != nil {
			return err
		}
		runcSeccomp = append(runcSeccomp, d)
		if d, err = rc.RunTrue(ctx, BoxLikeSpec); err != nil {
			return err
		}
		runcBoxLike = append(runcBoxLike, d)
		if crun != nil {
			if d, err := crun.RunTrue(ctx, BoxLikeSpec); err == nil {
				crunBoxLike = append(crunBoxLike, d)
			} else {
				x.rep.notef("crun comparison skipped: %v", err)
				crun.Close()
				crun, crunBoxLike = nil, nil
			}
		}
		s, err := CreateToFirstExec(ctx, p, x.cfg.Image)
		if err != nil {
			if s.id != "" {
				_ = p.DeleteBox(ctx, s.id)
			}
			return err
		}
		creates, totals = append(creates, s.create), append(totals, s.total)
		firstExec = append(firstExec, s.total-s.create)
		if took, ok := p.CreateTook(s.id); ok {
			tooks = append(tooks, took)
			afterDriver = append(afterDriver, s.create-took)
		}
		start := time.Now()
		if err := p.DeleteBox(ctx, s.id); err != nil {
			return err
		}
		destroys = append(destroys, time.Since(start))
	}

	x.progress("create: %d parallel `runc run`s, then %d parallel creates to first exec", n, n)
	runcPar := make([]time.Duration, n)
	runcCPU := childrenCPU()
	runcWall, err := parallel(n, func(i int) error {
		var err error
		runcPar[i], err = rc.RunTrue(ctx, TrivialSpec)
		return err
	})
	runcCPU = childrenCPU() - runcCPU
	if err != nil {
		return err
	}
	// CPU used by the parallel creates: hogplane's own and its reaped
	// children's (runc), and the boxes' cgroups' (runc init, the agent,
	// the first exec).
	planeCPU, err := processCPU(p.Pid())
	if err != nil {
		return err
	}
	par := make([]createSample, n)
	wall, err := parallel(n, func(i int) error {
		var err error
		par[i], err = CreateToFirstExec(ctx, p, x.cfg.Image)
		return err
	})
	if after, cerr := processCPU(p.Pid()); cerr == nil {
		planeCPU = after - planeCPU
	} else {
		err = errors.Join(err, cerr)
	}
	var boxCPU time.Duration
	for _, s := range par {
		if s.id == "" {
			continue
		}
		d, cerr := cgroupCPU(CgroupPath(s.id))
		if cerr != nil {
			err = errors.Join(err, cerr)
		}
		boxCPU += d
	}
	ids := make([]string, n)
	parTotals := make([]time.Duration, 0, n)
	var parTooks []time.Duration
	for i, s := range par {
		ids[i] = s.id
		parTotals = append(parTotals, s.total)
		if took, ok := p.CreateTook(s.id); ok {
			parTooks = append(parTooks, took)
		}
	}
	if derr := deleteAll(ctx, p, ids, n); err == nil {
		err = derr
	}
	if err != nil {
		return err
	}

	r := x.rep
	ser := r.series("create_serial_ms", msAll(totals))
	runcS := r.series("runc_run_true_ms", msAll(runcTrue))
	parS := r.series("create_parallel_ms", msAll(parTotals))
	runcParS := r.series("runc_run_true_parallel_ms", msAll(runcPar))
	withSeccomp := r.series("runc_run_true_seccomp_ms", msAll(runcSeccomp))
	boxLike := r.series("runc_run_true_boxlike_ms", msAll(runcBoxLike))
	apiCreate := r.series("create_api_ms", msAll(creates))
	first := r.series("create_first_exec_ms", msAll(firstExec))
	destroy := r.series("destroy_ms", msAll(destroys))
	const sec = "create → first exec"
	runcName := "`runc run` trivial bundle"
	r.add(
		newFigure(sec, "create_serial_p50_ms", fmt.Sprintf("serial ×%d, p50", n), "ms", float64(ser.P50)).
			vs(runcName+", p50", float64(runcS.P50)).
			atMost("≤ baseline + 20 ms", float64(runcS.P50)+20),
		newFigure(sec, "create_serial_p99_ms", fmt.Sprintf("serial ×%d, p99", n), "ms", float64(ser.P99)).
			vs(runcName+", p99", float64(runcS.P99)),
		newFigure(sec, "create_parallel_p50_ms", fmt.Sprintf("parallel ×%d, p50", n), "ms", float64(parS.P50)).
			vs(fmt.Sprintf("%s ×%d parallel, p50", runcName, n), float64(runcParS.P50)),
		newFigure(sec, "create_parallel_p99_ms", fmt.Sprintf("parallel ×%d, p99", n), "ms", float64(parS.P99)).
			vs(fmt.Sprintf("%s ×%d parallel, p99", runcName, n), float64(runcParS.P99)),
		newFigure(sec, "create_parallel_wall_ms", fmt.Sprintf("parallel ×%d, wall time", n), "ms", ms(wall)).
			vs("one serial create (p50)", float64(ser.P50)).
			atMost("≤ 3× baseline", 3*float64(ser.P50)),
	)
	r.addBreak(
		newFigure(sec, "create_api_p50_ms", "POST /v1/hogboxes until it answers (box running, agent up), serial p50", "ms", float64(apiCreate.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
	)
	if len(tooks) > 0 {
		took := r.series("create_driver_ms", msAll(tooks))
		rest := r.series("create_after_driver_ms", msAll(afterDriver))
		r.addBreak(
			newFigure(sec, "create_driver_p50_ms", "… of which the OCI driver's Create (disk copy + loop mount, overlay, bundle, `runc run --detach`), p50", "ms", float64(took.P50)).
				vs(runcName+", p50", float64(runcS.P50)).note("hogplane log: box created took="),
			newFigure(sec, "create_after_driver_p50_ms", "… of which the rest (agent start until its health answers, DB, HTTP), p50", "ms", float64(rest.P50)),
		)
	}
	r.addBreak(
		newFigure(sec, "create_first_exec_p50_ms", "first exec (`true`) after the create answered, p50", "ms", float64(first.P50)),
		newFigure(sec, "runc_seccomp_p50_ms", "`runc run` of the trivial bundle + the boxes' default seccomp profile, p50", "ms", float64(withSeccomp.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "runc_boxlike_p50_ms", "`runc run` of a box-like bundle (+ default seccomp profile, Docker caps, memory/CPU/pids limits), p50", "ms", float64(boxLike.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "runc_parallel_wall_ms", fmt.Sprintf("%s ×%d parallel, wall time", runcName, n), "ms", ms(runcWall)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "destroy_p50_ms", "DELETE /v1/hogboxes/{id} (not in the figures), p50", "ms", float64(destroy.P50)),
	)
	perCreate := ms(planeCPU+boxCPU) / float64(n)
	nproc := float64(x.rep.Machine.NProc)
	r.addBreak(
		newFigure(sec, "create_cpu_ms", fmt.Sprintf("CPU time per create → first exec (hogplane with its runc children, plus the box's cgroup), over the %d parallel creates", n), "ms", perCreate).
			vs(fmt.Sprintf("CPU time per `runc run` trivial, over the %d parallel runs", n), ms(runcCPU)/float64(n)),
		newFigure(sec, "create_box_cpu_ms", "… of which in the box's cgroup (runc init, agent start, the exec)", "ms", ms(boxCPU)/float64(n)),
		newFigure(sec, "create_parallel_cpu_floor_ms", fmt.Sprintf("parallel ×%d wall-time floor when CPU-bound: total CPU / %d CPUs", n, int(nproc)), "ms", ms(planeCPU+boxCPU)/nproc).
			vs("the wall-time target: 3× one serial create", 3*float64(ser.P50)),
		newFigure(sec, "runc_parallel_cpu_floor_ms", fmt.Sprintf("same floor for %d trivial `runc run`s", n), "ms", ms(runcCPU)/nproc).
			vs("3× one serial `runc run`", 3*float64(runcS.P50)),
	)
	if len(crunBoxLike) > 0 {
		cs := r.series("crun_run_true_boxlike_ms", msAll(crunBoxLike))
		r.addBreak(newFigure(sec, "crun_boxlike_p50_ms", "`crun run` of the same box-like bundle (what switching hogplane to --runtime crun would start from), p50", "ms", float64(cs.P50)).
			vs(runcName+", p50", float64(runcS.P50)))
	}
	if len(parTooks) > 0 && len(tooks) > 0 {
		pt := r.series("create_parallel_driver_ms", msAll(parTooks))
		r.addBreak(newFigure(sec, "create_parallel_driver_p50_ms", fmt.Sprintf("driver Create under %d parallel creates, p50", n), "ms", float64(pt.P50)).
			vs("driver Create, serial p50", float64(r.Series["create_driver_ms"].P50)))
	}
	return nil
}
