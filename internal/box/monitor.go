package box

import (
	"context"
	"errors"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
	"github.com/PostHog/hogland/internal/store"
)

// Start recovers the boxes a previous run left, cleans up what no record
// claims, and starts the monitor. Call Close to stop the monitor; boxes
// keep running.
func (m *Manager) Start(ctx context.Context) error {
	if err := m.recover(ctx); err != nil {
		return err
	}
	if err := m.collectLayers(ctx); err != nil { // snapshot.go
		m.log.Error("free unreferenced snapshot layers", "err", err)
	}
	if err := m.recoverDevboxes(ctx); err != nil { // devbox.go
		return err
	}
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go m.loop()
	m.startWarm() // warm.go
	return nil
}

// Close stops the monitor and flushes idle deadlines to the store. Boxes
// keep running, to be found again by the next Start.
func (m *Manager) Close() {
	if m.stop == nil {
		return
	}
	close(m.stop)
	<-m.done
	m.closeWarm()
	m.stop = nil
	m.flushExpiries(context.Background())
}

// recover reattaches live records to the boxes the driver still runs.
func (m *Manager) recover(ctx context.Context) error {
	recs, err := m.store.LiveBoxes(ctx)
	if err != nil {
		return err
	}
	for _, b := range recs {
		m.reattach(ctx, b)
	}
	infos, err := m.cfg.Driver.List(ctx)
	if err != nil {
		return err
	}
	for _, in := range infos {
		m.mu.Lock()
		_, claimed := m.live[in.ID]
		m.mu.Unlock()
		if claimed {
			continue
		}
		m.log.Info("removing leftover box no record claims", "box", in.ID)
		if err := m.cfg.Driver.Destroy(ctx, in.ID); err != nil {
			m.log.Error("remove leftover box", "box", in.ID, "err", err)
		}
	}
	return nil
}

func (m *Manager) reattach(ctx context.Context, b store.Box) {
	h := &handle{id: b.ID, owner: b.OwnerID, access: b.AccessType, status: b.Status, ttl: time.Duration(b.TTLSeconds) * time.Second, op: "recovering", env: b.Env}
	h.agent = m.newAgent(b.ID)
	m.mu.Lock()
	m.live[b.ID] = h
	m.mu.Unlock()
	if b.Status == api.StatusCreating {
		m.fail(ctx, h, api.ReasonHostLost, "hogplane stopped while the box was being created")
		return
	}
	st, err := m.cfg.Driver.State(ctx, b.ID)
	if err != nil || st == runtime.StateStopped || st == runtime.StateCreated {
		m.fail(ctx, h, api.ReasonHostLost, "the box's processes were gone when hogplane started")
		return
	}
	if stats, err := m.cfg.Driver.Stats(ctx, b.ID); err == nil {
		h.oomBase = stats.OOMKills
	}
	status := api.StatusRunning
	if st == runtime.StatePaused {
		status = api.StatusPaused
	}
	if status == api.StatusPaused && b.Status == api.StatusRunning {
		// Frozen while recorded running: hogplane stopped in the middle of
		// a snapshot's freeze (or of a pause it never recorded). Thaw it.
		if err := m.cfg.Driver.Resume(ctx, b.ID); err != nil {
			m.log.Error("thaw box left frozen", "box", b.ID, "err", err)
		} else {
			m.log.Warn("thawed box left frozen by an interrupted snapshot or pause", "box", b.ID)
			status = api.StatusRunning
		}
	}
	if status != b.Status {
		if err := m.store.SetStatus(ctx, b.ID, status, "", status, "state found at recovery", time.Now().UTC()); err != nil {
			m.log.Error("record recovered status", "box", b.ID, "err", err)
		}
	}
	h.mu.Lock()
	h.op, h.status = "", status
	if b.ExpiresAt != nil {
		h.expires, h.saved = *b.ExpiresAt, *b.ExpiresAt
	}
	// Never shrink a deadline behind the user's back: a box whose deadline
	// passed while hogplane was down gets one more idle period.
	if h.ttl > 0 && time.Until(h.expires) < h.ttl {
		m.touchLocked(h)
	}
	h.mu.Unlock()
	m.log.Info("recovered box", "box", b.ID, "status", status)
}

func (m *Manager) loop() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.MonitorInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.check(context.Background())
		}
	}
}

// check looks at every live box once: exits, OOM kills, idle deadlines.
func (m *Manager) check(ctx context.Context) {
	m.mu.Lock()
	hs := make([]*handle, 0, len(m.live))
	for _, h := range m.live {
		hs = append(hs, h)
	}
	m.mu.Unlock()
	now := time.Now()
	for _, h := range hs {
		m.checkOne(ctx, h, now)
	}
}

func (m *Manager) checkOne(ctx context.Context, h *handle, now time.Time) {
	h.mu.Lock()
	busy := h.op != ""
	expired := !h.expires.IsZero() && now.After(h.expires) && h.calls == 0
	exp, save := h.expires, !h.expires.Equal(h.saved)
	devbox := h.devbox
	h.mu.Unlock()
	if busy {
		return
	}
	reason, detail := m.diagnose(ctx, h)
	if reason == "" && expired && devbox != "" {
		m.devboxIdle(h, devbox) // an idle devbox stops (devbox.go)
		return
	}
	if reason == "" && expired {
		reason, detail = api.ReasonTTLExpired, "idle for longer than ttl_seconds"
	}
	if reason != "" {
		m.stopBox(ctx, h, reason, detail)
		return
	}
	if save {
		if err := m.store.SetExpiry(ctx, h.id, exp.UTC()); err != nil {
			m.log.Error("save idle deadline", "box", h.id, "err", err)
			return
		}
		h.mu.Lock()
		h.saved = exp
		h.mu.Unlock()
	}
}

// stopBox ends a box the monitor found dead, out of memory or expired,
// unless a user call is changing it right now (the next check retries).
func (m *Manager) stopBox(ctx context.Context, h *handle, reason, detail string) {
	h.mu.Lock()
	if h.op != "" {
		h.mu.Unlock()
		return
	}
	if reason == api.ReasonTTLExpired && (h.calls > 0 || time.Now().Before(h.expires)) {
		h.mu.Unlock() // touched since the check
		return
	}
	h.op = "stopping"
	h.mu.Unlock()
	status := api.StatusFailed
	if reason == api.ReasonTTLExpired {
		status = api.StatusStopped
	}
	m.log.Info("stopping box", "box", h.id, "reason", reason)
	if err := m.finish(ctx, h, status, reason, reason, detail); err != nil {
		m.log.Error("stop box", "box", h.id, "err", err)
	}
}

// diagnose returns a termination reason when the box died or hit OOM.
func (m *Manager) diagnose(ctx context.Context, h *handle) (reason, detail string) {
	st, err := m.cfg.Driver.State(ctx, h.id)
	if errs.Is(err, errs.NotFound) {
		return api.ReasonHostLost, "the runtime no longer knows this box"
	}
	if err != nil {
		m.log.Warn("box state", "box", h.id, "err", err)
		return "", ""
	}
	stats, serr := m.cfg.Driver.Stats(ctx, h.id)
	oom := serr == nil && stats.OOMKills > h.oomBase
	switch {
	case oom:
		return api.ReasonOOM, "a process in the box was killed for exceeding memory_mib"
	case st == runtime.StateStopped:
		return api.ReasonInitExited, "the box's init process exited"
	}
	return "", ""
}

func (m *Manager) flushExpiries(ctx context.Context) {
	m.mu.Lock()
	hs := make([]*handle, 0, len(m.live))
	for _, h := range m.live {
		hs = append(hs, h)
	}
	m.mu.Unlock()
	for _, h := range hs {
		h.mu.Lock()
		exp, save := h.expires, !h.expires.Equal(h.saved)
		h.mu.Unlock()
		if save {
			if err := m.store.SetExpiry(ctx, h.id, exp.UTC()); err != nil && !errors.Is(err, context.Canceled) {
				m.log.Error("save idle deadline", "box", h.id, "err", err)
			}
		}
	}
}
