package box

import (
	"context"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// Quota returns owner's effective quota: the server default (Limits.Quota)
// with the owner's overrides from the store.
func (m *Manager) Quota(ctx context.Context, owner string) (api.Quota, error) {
	o, err := m.store.QuotaOverrides(ctx, owner)
	if err != nil {
		return api.Quota{}, err
	}
	return m.QuotaWith(o), nil
}

// QuotaWith is the quota of a principal with overrides o: each override
// set replaces the server's default.
func (m *Manager) QuotaWith(o store.QuotaOverrides) api.Quota {
	q := m.cfg.Limits.Quota
	for _, c := range []struct {
		dst *int64
		src *int64
	}{{&q.MaxBoxes, o.MaxBoxes}, {&q.MaxCPUs, o.MaxCPUs}, {&q.MaxMemoryMiB, o.MaxMemoryMiB}, {&q.MaxSnapshotBytes, o.MaxSnapshotBytes}} {
		if c.src != nil {
			*c.dst = *c.src
		}
	}
	return q
}

// Usage returns what owner holds now: live boxes (creating, running or
// paused: a paused box keeps its memory) and stored snapshot bytes.
func (m *Manager) Usage(ctx context.Context, owner string) (api.Usage, error) {
	var u api.Usage
	var err error
	u.Boxes, u.CPUs, u.MemoryMiB, err = m.store.OwnerUsage(ctx, owner)
	if err != nil {
		return api.Usage{}, err
	}
	u.SnapshotBytes, err = m.store.SnapshotBytes(ctx, owner)
	return u, err
}

// CheckSnapshotQuota is for the snapshot path to call before it stores a
// snapshot of addBytes for owner (0 when the size is not known yet): it
// answers the same 403 as a box over
// quota (quota max_snapshot_bytes, its limit and the bytes in use) when
// the snapshot would not fit.
func (m *Manager) CheckSnapshotQuota(ctx context.Context, owner string, addBytes int64) error {
	q, err := m.Quota(ctx, owner)
	if err != nil {
		return err
	}
	used, err := m.store.SnapshotBytes(ctx, owner)
	if err != nil {
		return err
	}
	// With addBytes 0 (a check before the size is known) there must be
	// room for at least one byte.
	if used+addBytes > q.MaxSnapshotBytes || (addBytes == 0 && used >= q.MaxSnapshotBytes) {
		return quotaExceeded("max_snapshot_bytes", q.MaxSnapshotBytes, used, addBytes, "this snapshot needs", "delete snapshots you no longer need")
	}
	return nil
}

// quotaExceeded is the 403 for a quota a request would exceed, naming the
// quota, its limit and its use in the problem's extra members.
func quotaExceeded(name string, limit, used, want int64, needs, hint string) error {
	e := errs.New(errs.PermissionDenied, "quota %s exceeded: limit %d, in use %d, %s %d; %s", name, limit, used, needs, want, hint)
	e.Extra = map[string]any{"quota": name, "limit": limit, "used": used}
	return e
}
