package box

import (
	"context"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// Pause freezes every process of a running box. Pausing a paused box is
// harmless.
func (m *Manager) Pause(ctx context.Context, owner, id string) (api.Box, error) {
	return m.transition(ctx, owner, id, transition{
		op: "pausing", from: api.StatusRunning, to: api.StatusPaused, event: "paused",
		run: func(ctx context.Context) error { return m.cfg.Driver.Pause(ctx, id) },
	})
}

// Resume thaws a paused box. Resuming a running box is harmless.
func (m *Manager) Resume(ctx context.Context, owner, id string) (api.Box, error) {
	return m.transition(ctx, owner, id, transition{
		op: "resuming", from: api.StatusPaused, to: api.StatusRunning, event: "resumed",
		run: func(ctx context.Context) error { return m.cfg.Driver.Resume(ctx, id) },
	})
}

type transition struct {
	op, from, to, event string
	run                 func(context.Context) error
}

func (m *Manager) transition(ctx context.Context, owner, id string, t transition) (api.Box, error) {
	h, err := m.begin(ctx, owner, id, t.op)
	if err != nil {
		return api.Box{}, err
	}
	ctx = context.WithoutCancel(ctx)
	switch h.status {
	case t.to:
		h.end("")
		return m.Get(ctx, owner, id)
	case t.from:
	default:
		h.end("")
		return api.Box{}, errs.New(errs.Conflict, "box %s is %s; it must be %s to do that", id, h.status, t.from)
	}
	if err := t.run(ctx); err != nil {
		m.runtimeFailed(t.op)
		h.end("")
		return api.Box{}, errs.Wrap(errs.KindOf(err), err, "box %s: %s failed", id, t.op)
	}
	if err := m.store.SetStatus(ctx, id, t.to, "", t.event, "", time.Now().UTC()); err != nil {
		h.end(t.to)
		return api.Box{}, err
	}
	h.mu.Lock()
	h.op, h.status = "", t.to
	m.touchLocked(h)
	h.mu.Unlock()
	return m.Get(ctx, owner, id)
}

// Destroy stops a box and frees everything it held. Destroying a box that
// is already stopped or failed is harmless.
func (m *Manager) Destroy(ctx context.Context, owner, id string) error {
	h, err := m.begin(ctx, owner, id, "destroying")
	if errs.Is(err, errs.Conflict) {
		return nil // no longer live: nothing to free
	}
	if err != nil {
		return err
	}
	return m.finish(context.WithoutCancel(ctx), h, api.StatusStopped, api.ReasonDestroyed, "destroyed", "")
}

// finish tears a live box down and records its final status. The caller
// holds the box's transition (h.op set).
func (m *Manager) finish(ctx context.Context, h *handle, status, reason, event, detail string) error {
	if err := m.cfg.Driver.Destroy(ctx, h.id); err != nil {
		m.runtimeFailed("destroy")
		h.end("")
		m.log.Error("destroy box", "box", h.id, "err", err)
		return errs.Wrap(errs.Internal, err, "box %s: destroy failed; retry the call", h.id)
	}
	if err := m.store.SetStatus(ctx, h.id, status, reason, event, detail, time.Now().UTC()); err != nil {
		h.end("")
		return err
	}
	h.end(status)
	m.forget(h.id)
	h.mu.Lock()
	proxy := h.proxy
	h.mu.Unlock()
	if proxy != nil {
		proxy.shutdown()
	}
	if h.agent != nil {
		h.agent.Close()
	}
	return nil
}

// fail records a box as failed and frees what it held. Used when a create
// goes wrong and when the monitor finds a box dead.
func (m *Manager) fail(ctx context.Context, h *handle, reason, detail string) {
	if err := m.finish(ctx, h, api.StatusFailed, reason, reason, detail); err != nil {
		m.log.Error("record failed box", "box", h.id, "reason", reason, "err", err)
	}
}

// Update changes a box's name, tags or idle TTL. A new TTL restarts the
// idle deadline from now.
func (m *Manager) Update(ctx context.Context, owner, id string, req api.UpdateBoxRequest) (api.Box, error) {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return api.Box{}, err
	}
	if b.OwnerID != owner {
		return api.Box{}, notFound(id)
	}
	u := store.BoxUpdate{Name: req.Name, TTLSeconds: req.TTLSeconds}
	if req.Name != nil {
		if err := ValidateName(*req.Name); err != nil {
			return api.Box{}, err
		}
	}
	if req.Tags != nil {
		tags := dedupe(*req.Tags)
		if err := ValidateTags(tags); err != nil {
			return api.Box{}, err
		}
		u.Tags = &tags
	}
	if req.TTLSeconds != nil {
		if err := checkRange("ttl_seconds", *req.TTLSeconds, m.cfg.Limits.TTLSeconds); err != nil {
			return api.Box{}, err
		}
	}
	h := m.liveHandle(id)
	if h != nil && req.TTLSeconds != nil {
		h.mu.Lock()
		h.ttl = time.Duration(*req.TTLSeconds) * time.Second
		h.expires = time.Now().Add(h.ttl)
		exp := h.expires.UTC()
		u.ExpiresAt = &exp
		h.saved = exp
		h.mu.Unlock()
	}
	if err := m.store.UpdateBox(ctx, id, u, time.Now().UTC()); err != nil {
		return api.Box{}, err
	}
	return m.Get(ctx, owner, id)
}
