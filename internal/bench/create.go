package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/PostHog/hogland/api"
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
func CreateToFirstExec(ctx context.Context, p *Plane, req api.CreateBoxRequest) (createSample, error) {
	start := time.Now()
	b, err := p.CreateBoxReq(ctx, req)
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

// parallelRun is one burst of parallel creates to first exec.
type parallelRun struct {
	wall            time.Duration
	samples         []createSample
	planeCPU, boxCT time.Duration
}

// parallelCreates runs n creates of req to first exec at once, measuring
// the wall time and the CPU used by hogplane (with its reaped children,
// runc) and by the boxes' cgroups (runc init, the agent, the exec). The
// boxes are destroyed afterwards.
func parallelCreates(ctx context.Context, p *Plane, req api.CreateBoxRequest, n int) (parallelRun, error) {
	r := parallelRun{samples: make([]createSample, n)}
	planeCPU, err := processCPU(p.Pid())
	if err != nil {
		return r, err
	}
	// The boxes' CPU is their parent cgroup's growth: a warm box ran its
	// start-up before the burst, which is not the burst's.
	boxesCPU, err := cgroupCPU(CgroupParent)
	if err != nil {
		return r, err
	}
	r.wall, err = parallel(n, func(i int) error {
		var err error
		r.samples[i], err = CreateToFirstExec(ctx, p, req)
		return err
	})
	if after, cerr := processCPU(p.Pid()); cerr == nil {
		r.planeCPU = after - planeCPU
	} else {
		err = errors.Join(err, cerr)
	}
	if after, cerr := cgroupCPU(CgroupParent); cerr == nil {
		r.boxCT = after - boxesCPU
	} else {
		err = errors.Join(err, cerr)
	}
	ids := make([]string, n)
	for i, s := range r.samples {
		ids[i] = s.id
	}
	if derr := deleteAll(ctx, p, ids, n); err == nil {
		err = derr
	}
	return r, err
}

func (r parallelRun) totals() []time.Duration {
	out := make([]time.Duration, 0, len(r.samples))
	for _, s := range r.samples {
		out = append(out, s.total)
	}
	return out
}

func (x *runner) benchCreate(ctx context.Context) error {
	n, p, rc := x.cfg.N, x.plane, x.runc
	var lim api.Limits
	if err := p.call(ctx, "GET", "/v1/limits", nil, &lim); err != nil {
		return err
	}
	warmReq := api.CreateBoxRequest{Image: x.cfg.Image}
	// A box with a disk one GiB over the default fits no warm box: its
	// create starts the box from scratch (the same work but for the
	// size of a sparse disk image).
	cold := lim.DiskGiB.Default + 1
	coldReq := api.CreateBoxRequest{Image: x.cfg.Image, DiskGiB: cold}
	warmNote := "a warm box ready"
	if p.WarmPool == "" {
		warmNote = "hogplane without warm boxes"
	}
	x.progress("create: %d serial creates to first exec (%s, then one cold), each beside a `runc run` of /bin/true", n, warmNote)
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
	var runcTrue, runcSeccomp, runcBoxLike, creates, totals, destroys, firstExec []time.Duration
	var coldTotals, tooks, afterDriver []time.Duration
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
		if err := x.waitWarm(ctx); err != nil {
			return err
		}
		s, err := CreateToFirstExec(ctx, p, warmReq)
		if err != nil {
			if s.id != "" {
				_ = p.DeleteBox(ctx, s.id)
			}
			return err
		}
		creates, totals = append(creates, s.create), append(totals, s.total)
		firstExec = append(firstExec, s.total-s.create)
		c, err := CreateToFirstExec(ctx, p, coldReq)
		if err != nil {
			_ = p.DeleteBox(ctx, s.id)
			if c.id != "" {
				_ = p.DeleteBox(ctx, c.id)
			}
			return err
		}
		coldTotals = append(coldTotals, c.total)
		if took, ok := p.CreateTook(c.id); ok {
			tooks = append(tooks, took)
			afterDriver = append(afterDriver, c.create-took)
		}
		start := time.Now()
		if err := p.DeleteBox(ctx, s.id); err != nil {
			return err
		}
		destroys = append(destroys, time.Since(start))
		if err := p.DeleteBox(ctx, c.id); err != nil {
			return err
		}
	}

	x.progress("create: %d parallel `runc run`s, then %d parallel creates to first exec (%s), then %d cold", n, n, warmNote, n)
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
	if err := x.waitWarm(ctx); err != nil {
		return err
	}
	par, err := parallelCreates(ctx, p, warmReq, n)
	if err != nil {
		return err
	}
	if err := x.waitWarm(ctx); err != nil {
		return err
	}
	coldPar, err := parallelCreates(ctx, p, coldReq, n)
	if err != nil {
		return err
	}
	var parTooks []time.Duration
	for _, s := range coldPar.samples {
		if took, ok := p.CreateTook(s.id); ok {
			parTooks = append(parTooks, took)
		}
	}

	r := x.rep
	ser := r.series("create_serial_ms", msAll(totals))
	runcS := r.series("runc_run_true_ms", msAll(runcTrue))
	parS := r.series("create_parallel_ms", msAll(par.totals()))
	runcParS := r.series("runc_run_true_parallel_ms", msAll(runcPar))
	coldS := r.series("create_cold_serial_ms", msAll(coldTotals))
	coldParS := r.series("create_cold_parallel_ms", msAll(coldPar.totals()))
	withSeccomp := r.series("runc_run_true_seccomp_ms", msAll(runcSeccomp))
	boxLike := r.series("runc_run_true_boxlike_ms", msAll(runcBoxLike))
	apiCreate := r.series("create_api_ms", msAll(creates))
	first := r.series("create_first_exec_ms", msAll(firstExec))
	destroy := r.series("destroy_ms", msAll(destroys))
	const sec = "create → first exec"
	runcName := "`runc run` trivial bundle"
	r.add(
		newFigure(sec, "create_serial_p50_ms", fmt.Sprintf("serial ×%d (%s), p50", n, warmNote), "ms", float64(ser.P50)).
			vs(runcName+", p50", float64(runcS.P50)).
			atMost("≤ baseline + 20 ms", float64(runcS.P50)+20),
		newFigure(sec, "create_serial_p99_ms", fmt.Sprintf("serial ×%d, p99", n), "ms", float64(ser.P99)).
			vs(runcName+", p99", float64(runcS.P99)),
		newFigure(sec, "create_parallel_p50_ms", fmt.Sprintf("parallel ×%d, p50", n), "ms", float64(parS.P50)).
			vs(fmt.Sprintf("%s ×%d parallel, p50", runcName, n), float64(runcParS.P50)),
		newFigure(sec, "create_parallel_p99_ms", fmt.Sprintf("parallel ×%d, p99", n), "ms", float64(parS.P99)).
			vs(fmt.Sprintf("%s ×%d parallel, p99", runcName, n), float64(runcParS.P99)),
		newFigure(sec, "create_parallel_wall_ms", fmt.Sprintf("parallel ×%d, wall time", n), "ms", ms(par.wall)).
			vs("one serial create (p50)", float64(ser.P50)).
			atMost("≤ 3× baseline", 3*float64(ser.P50)),
	)
	r.addBreak(
		newFigure(sec, "create_api_p50_ms", "POST /v1/hogboxes until it answers (box running, agent up), serial p50", "ms", float64(apiCreate.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "create_first_exec_p50_ms", "first exec (`true`) after the create answered, p50", "ms", float64(first.P50)),
		newFigure(sec, "create_cold_serial_p50_ms", fmt.Sprintf("cold create → first exec (no warm box fits: disk_gib %d), serial p50", cold), "ms", float64(coldS.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "create_cold_serial_p99_ms", "cold, serial p99", "ms", float64(coldS.P99)).
			vs(runcName+", p99", float64(runcS.P99)),
		newFigure(sec, "create_cold_parallel_wall_ms", fmt.Sprintf("cold, parallel ×%d, wall time (p50 %.0f ms)", n, float64(coldParS.P50)), "ms", ms(coldPar.wall)).
			vs("one cold serial create (p50)", float64(coldS.P50)),
	)
	if len(tooks) > 0 {
		took := r.series("create_driver_ms", msAll(tooks))
		rest := r.series("create_after_driver_ms", msAll(afterDriver))
		r.addBreak(
			newFigure(sec, "create_driver_p50_ms", "… of a cold create: the OCI driver's Create (disk copy + loop mount, overlay, bundle, `runc run --detach`), p50", "ms", float64(took.P50)).
				vs(runcName+", p50", float64(runcS.P50)).note("hogplane log: box created took="),
			newFigure(sec, "create_after_driver_p50_ms", "… of a cold create: the rest (agent start until its health answers, DB, HTTP), p50", "ms", float64(rest.P50)),
		)
	}
	r.addBreak(
		newFigure(sec, "runc_seccomp_p50_ms", "`runc run` of the trivial bundle + the boxes' default seccomp profile, p50", "ms", float64(withSeccomp.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "runc_boxlike_p50_ms", "`runc run` of a box-like bundle (+ default seccomp profile, Docker caps, memory/CPU/pids limits), p50", "ms", float64(boxLike.P50)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "runc_parallel_wall_ms", fmt.Sprintf("%s ×%d parallel, wall time", runcName, n), "ms", ms(runcWall)).
			vs(runcName+", p50", float64(runcS.P50)),
		newFigure(sec, "destroy_p50_ms", "DELETE /v1/hogboxes/{id} (not in the figures), p50", "ms", float64(destroy.P50)),
	)
	nproc := float64(x.rep.Machine.NProc)
	r.addBreak(
		newFigure(sec, "create_cpu_ms", fmt.Sprintf("CPU time per create → first exec (hogplane with its children, plus the box's cgroup), over the %d parallel creates", n), "ms", ms(par.planeCPU+par.boxCT)/float64(n)).
			vs(fmt.Sprintf("CPU time per `runc run` trivial, over the %d parallel runs", n), ms(runcCPU)/float64(n)),
		newFigure(sec, "create_parallel_cpu_floor_ms", fmt.Sprintf("parallel ×%d wall-time floor when CPU-bound: total CPU / %d CPUs (above the 3× line, no schedule meets the target on this machine)", n, int(nproc)), "ms", ms(par.planeCPU+par.boxCT)/nproc).
			vs("3× one serial create", 3*float64(ser.P50)),
		newFigure(sec, "create_cold_cpu_ms", fmt.Sprintf("CPU time per cold create → first exec, over the %d cold parallel creates", n), "ms", ms(coldPar.planeCPU+coldPar.boxCT)/float64(n)).
			vs(fmt.Sprintf("CPU time per `runc run` trivial, over the %d parallel runs", n), ms(runcCPU)/float64(n)),
		newFigure(sec, "create_cold_box_cpu_ms", "… of which in the box's cgroup (runc init, agent start, the exec)", "ms", ms(coldPar.boxCT)/float64(n)),
		newFigure(sec, "create_cold_parallel_cpu_floor_ms", fmt.Sprintf("cold parallel ×%d wall-time floor when CPU-bound: total CPU / %d CPUs", n, int(nproc)), "ms", ms(coldPar.planeCPU+coldPar.boxCT)/nproc).
			vs("3× one cold serial create", 3*float64(coldS.P50)),
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
		r.addBreak(newFigure(sec, "create_parallel_driver_p50_ms", fmt.Sprintf("driver Create under %d cold parallel creates, p50", n), "ms", float64(pt.P50)).
			vs("driver Create, serial p50", float64(r.Series["create_driver_ms"].P50)))
	}
	return nil
}
