package oci

import (
	"context"
	"fmt"
	"time"

	"github.com/PostHog/hogland/internal/layer"
	"github.com/PostHog/hogland/internal/runtime"
)

var _ runtime.Snapshotter = (*Driver)(nil)

// SnapshotKind is runtime.SnapshotFilesystem: the OCI driver captures a
// box's writable overlay layer.
func (d *Driver) SnapshotKind() string { return runtime.SnapshotFilesystem }

// CaptureLayer copies the box's overlay upper dir into dir. The copy is
// made while the box runs, then made again for what changed meanwhile,
// and only then is the box frozen (the cgroup freezer, as Pause) for a
// last pass over what changed since: the freeze lasts a walk of the layer
// plus whatever the box wrote in its last moments. The files are read
// through the page cache, which is what the box sees, so no sync is
// needed for the copy to be exact.
func (d *Driver) CaptureLayer(ctx context.Context, id, dir string) (runtime.Capture, error) {
	if err := checkID(id); err != nil {
		return runtime.Capture{}, err
	}
	st, err := d.status(ctx, id)
	switch {
	case err != nil:
		return runtime.Capture{}, fmt.Errorf("capture %s: %w", id, err)
	case !st.exists:
		return runtime.Capture{}, notFound(id)
	case st.state != runtime.StateRunning && st.state != runtime.StatePaused:
		return runtime.Capture{}, fmt.Errorf("capture %s: box is %s", id, st.state)
	}
	freeze := func(ctx context.Context) error { return d.setPaused(ctx, id, true) }
	thaw := func(ctx context.Context) error {
		// The thaw must happen even if the caller gave up.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), freezeTimeout)
		defer cancel()
		return d.setPaused(ctx, id, false)
	}
	if st.state == runtime.StatePaused {
		freeze, thaw = nil, nil // frozen already, and to stay so
	}
	start := time.Now()
	cs, err := layer.CopyConsistent(ctx, d.paths(id).upper, dir, freeze, thaw)
	if err != nil {
		return runtime.Capture{}, fmt.Errorf("capture %s: %w", id, err)
	}
	d.log.Info("box layer captured", "box", id, "entries", cs.Entries, "bytes", cs.Bytes,
		"frozen_bytes", cs.FrozenBytes, "paused", cs.Frozen.Round(time.Microsecond), "took", time.Since(start).Round(time.Microsecond))
	return runtime.Capture{Paused: cs.Frozen, Entries: cs.Entries, Bytes: cs.Bytes, FrozenBytes: cs.FrozenBytes}, nil
}
