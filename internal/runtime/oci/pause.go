package oci

import (
	"context"
	"fmt"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

// Pause freezes every process of box id. With runc it writes the cgroup
// freezer directly (runc reads the same freezer for its own state), with
// other runtimes it runs `<runtime> pause`. Pausing a paused box is a
// no-op; pausing a box that is not running is an errs.Conflict.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.setPaused(ctx, id, true)
}

// Resume thaws box id. Resuming a running box is a no-op; resuming a box
// that is neither running nor paused is an errs.Conflict.
func (d *Driver) Resume(ctx context.Context, id string) error {
	return d.setPaused(ctx, id, false)
}

func (d *Driver) setPaused(ctx context.Context, id string, pause bool) error {
	op, want, from := "resume", runtime.StateRunning, runtime.StatePaused
	if pause {
		op, want, from = "pause", runtime.StatePaused, runtime.StateRunning
	}
	if err := checkID(id); err != nil {
		return err
	}
	st, err := d.status(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", op, id, err)
	case !st.exists:
		return notFound(id)
	case st.state == want:
		return nil
	case st.state != from:
		return errs.New(errs.Conflict, "box %s is %s, cannot %s it", id, st.state, op)
	}
	if d.cfg.Runtime == "runc" {
		err = d.cg.box(d.cgroupPath(id)).setFrozen(ctx, pause)
	} else {
		_, err = d.runtimeExec(ctx, op, id)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	return nil
}
