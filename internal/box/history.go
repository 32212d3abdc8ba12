package box

import (
	"context"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/store"
)

// History returns a box's lifecycle events with seq greater than after,
// oldest first, and whether the box has ended (no more events will come).
func (m *Manager) History(ctx context.Context, owner, id string, after int64, limit int) ([]api.BoxEvent, bool, error) {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if b.OwnerID != owner {
		return nil, false, notFound(id)
	}
	evs, err := m.store.Events(ctx, id, after, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]api.BoxEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventView(e))
	}
	ended := b.Status == api.StatusStopped || b.Status == api.StatusFailed
	return out, ended, nil
}

// EventsChanged is closed when the next box event is stored.
func (m *Manager) EventsChanged() <-chan struct{} { return m.store.EventsChanged() }

func eventView(e store.Event) api.BoxEvent {
	return api.BoxEvent{Seq: e.Seq, BoxID: e.BoxID, At: e.At, Type: e.Type, Status: e.Status, Reason: e.Reason, Detail: e.Detail}
}
