package box

import (
	"context"
	"strings"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// createOptions are settings of boxes hogplane makes for itself (a
// devbox's box), beyond what the API lets a caller ask for.
type createOptions struct {
	// devbox is the devbox the box runs for; its kind is "devbox" and its
	// idle timeout, ttl, stops the devbox instead of the box (0: none).
	devbox string
	ttl    int64
	tags   []string
}

// devboxKind is the kind of a devbox's box.
const devboxKind = "devbox"

// prepareFrom validates a create request as prepare does, after resolving
// its snapshot_id (an id or alias:NAME) and taking the image and any
// shape left out from the snapshot.
func (m *Manager) prepareFrom(ctx context.Context, owner string, req api.CreateBoxRequest, o createOptions) (store.Box, store.Snapshot, error) {
	var sn store.Snapshot
	if req.SnapshotID != "" {
		var err error
		if sn, err = m.resolveSnapshot(ctx, owner, req.SnapshotID); err != nil {
			return store.Box{}, store.Snapshot{}, err
		}
		if err := applySnapshot(&req, sn); err != nil {
			return store.Box{}, store.Snapshot{}, err
		}
	}
	rec, err := m.prepare(req)
	if err != nil {
		return store.Box{}, store.Snapshot{}, err
	}
	rec.OwnerID, rec.SnapshotID = owner, sn.ID
	if o.devbox != "" {
		rec.Kind, rec.TTLSeconds = devboxKind, o.ttl
		rec.Tags = append(rec.Tags, o.tags...)
	}
	return rec, sn, nil
}

// stage finds the root layers of a create's record, rec as prepareFrom
// made it from req on snapshot sn (fetching snapshot layers not cached
// yet), and stores the record. An alias that moved to another snapshot,
// whose old one was deleted meanwhile, is resolved again.
func (m *Manager) stage(ctx context.Context, owner string, req api.CreateBoxRequest, idem *store.Idempotency, o createOptions, rec store.Box, sn store.Snapshot) (store.Box, []string, *handle, error) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			var err error
			if rec, sn, err = m.prepareFrom(ctx, owner, req, o); err != nil {
				return store.Box{}, nil, nil, err
			}
		}
		layers, err := m.layers(ctx, rec.Image)
		if err != nil {
			return store.Box{}, nil, nil, err
		}
		if sn.ID != "" {
			if layers, err = m.snapshotLayers(ctx, sn, layers); err != nil {
				return store.Box{}, nil, nil, err
			}
		}
		h, err := m.insert(ctx, rec, idem)
		if err == nil {
			h.mu.Lock()
			h.devbox = o.devbox
			h.mu.Unlock()
			return rec, layers, h, nil
		}
		gone := sn.ID != "" && errs.Is(err, errs.NotFound)
		if !gone || !strings.HasPrefix(req.SnapshotID, AliasPrefix) || attempt == 3 {
			if gone {
				err = errs.New(errs.Conflict, "snapshot %s was deleted while the box was being created; retry", sn.ID)
			}
			return store.Box{}, nil, nil, err
		}
	}
}
