package box

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/panion/client"
	"github.com/PostHog/hogland/internal/runtime"
	"github.com/PostHog/hogland/internal/store"
)

// Warm boxes are boxes started ahead of demand, with the default shape
// and no owner, so that a create can take one that already runs instead
// of waiting for the runtime to start a new one. A warm box is started
// with its final id (its hostname), the image's root, an empty disk of
// its shape's size, the default CPU and memory limits and no extra
// environment; the create that takes it gets the shape it asked for
// through the driver's Updater and its environment laid over every
// process the box starts (handle.env). A create with a snapshot, another
// disk size, or a shape the driver cannot change in place starts a box
// of its own as before.
//
// Warm boxes have no record: a hogplane that stops leaves them to the
// next Start, which removes them with every other box no record claims.

// WarmShape is what a warm box is made for: an image and a disk size
// (0 in Config.WarmPool: the default size).
type WarmShape struct {
	Image   string
	DiskGiB int64
}

// warmPool is the Manager's warm boxes, by shape.
type warmPool struct {
	mu     sync.Mutex
	shapes []WarmShape // Config.WarmPool's, in the order the filler serves them
	ready  map[WarmShape][]*warmBox
	// claimed counts boxes taken by creates not yet through: a refused
	// create hands its box back, so the filler does not replace it yet.
	claimed map[WarmShape]int
	wake    chan struct{}
	done    chan struct{} // closed when the filler has stopped
	// creating counts creates in flight and lastCreate is when one last
	// began or ended (unix nanoseconds): the filler waits for a lull, so
	// a burst of creates has the CPU to itself.
	creating   atomic.Int64
	lastCreate atomic.Int64
}

// createBegan and createEnded bracket every create, for awaitLull.
func (p *warmPool) createBegan() {
	p.creating.Add(1)
	p.lastCreate.Store(time.Now().UnixNano())
}

func (p *warmPool) createEnded() {
	p.lastCreate.Store(time.Now().UnixNano())
	p.creating.Add(-1)
}

// warmBox is one started box waiting for a create, with the default CPU
// and memory limits.
type warmBox struct {
	id    string
	shape WarmShape
	agent *client.Client
}

const (
	// warmBackoffMin and Max bound the wait after a warm box failed to
	// start.
	warmBackoffMin = time.Second
	warmBackoffMax = time.Minute
	// warmLull is how long no create must have begun before the filler
	// starts a box; warmLullMax is the longest it defers to creates.
	warmLull    = 100 * time.Millisecond
	warmLullMax = time.Second
)

func (p *warmPool) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// startWarm starts the filler, which keeps Config.WarmPool boxes ready.
func (m *Manager) startWarm() {
	m.warm.ready = map[WarmShape][]*warmBox{}
	m.warm.claimed = map[WarmShape]int{}
	m.warm.wake = make(chan struct{}, 1)
	m.warm.done = make(chan struct{})
	m.warm.shapes = slices.SortedFunc(maps.Keys(m.cfg.WarmPool), func(a, b WarmShape) int {
		return cmp.Or(cmp.Compare(a.Image, b.Image), cmp.Compare(a.DiskGiB, b.DiskGiB))
	})
	if len(m.cfg.WarmPool) == 0 {
		close(m.warm.done)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-m.stop
		cancel()
	}()
	go m.fillWarm(ctx)
	m.warm.kick()
}

// fillWarm starts warm boxes, one at a time, while an image has fewer
// ready than configured; it backs off after failures.
func (m *Manager) fillWarm(ctx context.Context) {
	defer close(m.warm.done)
	var backoff time.Duration
	for {
		shape, ok := m.warmWanted()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-m.warm.wake:
			}
			continue
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		if !m.awaitLull(ctx) {
			return
		}
		wb, err := m.startWarmBox(ctx, shape)
		if ctx.Err() != nil {
			if err == nil {
				m.destroyWarm(wb)
			}
			return
		}
		if err != nil {
			backoff = min(max(2*backoff, warmBackoffMin), warmBackoffMax)
			m.log.Warn("start warm box", "image", shape.Image, "disk_gib", shape.DiskGiB, "err", err, "retry_in", backoff)
			continue
		}
		backoff = 0
		m.warm.mu.Lock()
		m.warm.ready[shape] = append(m.warm.ready[shape], wb)
		n := len(m.warm.ready[shape])
		m.warm.mu.Unlock()
		m.warmGauge(shape, n)
	}
}

// awaitLull waits until no create is in flight and none has begun or
// ended for warmLull, or for warmLullMax at most; false when ctx ends
// first.
func (m *Manager) awaitLull(ctx context.Context) bool {
	deadline := time.Now().Add(warmLullMax)
	for {
		quiet := time.Since(time.Unix(0, m.warm.lastCreate.Load()))
		if (m.warm.creating.Load() == 0 && quiet >= warmLull) || time.Now().After(deadline) {
			return true
		}
		wait := max(warmLull-quiet, 5*time.Millisecond)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// warmWanted returns a shape with fewer warm boxes than configured.
func (m *Manager) warmWanted() (WarmShape, bool) {
	m.warm.mu.Lock()
	defer m.warm.mu.Unlock()
	for _, s := range m.warm.shapes {
		if len(m.warm.ready[s])+m.warm.claimed[s] < m.cfg.WarmPool[s] {
			return s, true
		}
	}
	return WarmShape{}, false
}

// startWarmBox starts one warm box of a shape and waits for its agent.
func (m *Manager) startWarmBox(ctx context.Context, shape WarmShape) (*warmBox, error) {
	layers, err := m.layers(ctx, shape.Image)
	if err != nil {
		return nil, err
	}
	l := m.cfg.Limits
	wb := &warmBox{id: NewBoxID(), shape: shape}
	spec := runtime.Spec{
		ID: wb.id, Layers: layers, CPUs: l.CPUs.Default, MemoryMiB: l.MemoryMiB.Default, DiskGiB: shape.DiskGiB,
		Pids: l.Pids, AgentPath: m.cfg.AgentPath,
	}
	if err := m.cfg.Driver.Create(ctx, spec); err != nil {
		m.runtimeFailed("warm")
		return nil, err
	}
	wb.agent = m.newAgent(wb.id)
	if err := m.waitAgent(ctx, wb.id, wb.agent); err != nil {
		m.runtimeFailed("warm")
		m.destroyWarm(wb)
		return nil, err
	}
	return wb, nil
}

// claimWarm takes a warm box for the create of rec, or returns nil when
// none fits: rec stands on a snapshot, wants another disk size, or a
// shape the driver cannot give a running box, or no box is ready.
func (m *Manager) claimWarm(ctx context.Context, rec store.Box) *warmBox {
	shape := WarmShape{rec.Image, rec.DiskGiB}
	if _, ok := m.cfg.WarmPool[shape]; !ok || rec.SnapshotID != "" {
		return nil
	}
	if _, ok := m.cfg.Driver.(runtime.Updater); !ok && m.reshaped(rec) {
		return nil
	}
	for {
		m.warm.mu.Lock()
		q := m.warm.ready[shape]
		var wb *warmBox
		if len(q) > 0 {
			wb, m.warm.ready[shape] = q[0], q[1:]
			m.warm.claimed[shape]++
		}
		n := len(m.warm.ready[shape])
		m.warm.mu.Unlock()
		if wb == nil {
			m.warmClaimed("miss")
			return nil
		}
		m.warmGauge(shape, n)
		// The agent may have died while the box waited: make sure it
		// answers (this also opens the connection the first exec uses).
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := wb.agent.Health(hctx)
		cancel()
		if err == nil {
			m.warmClaimed("hit")
			return wb
		}
		if ctx.Err() != nil {
			// The caller went away, not the agent: keep the box.
			m.unclaimWarm(wb)
			return nil
		}
		m.log.Warn("warm box's agent did not answer; discarding it", "box", wb.id, "err", err)
		m.discardWarm(wb)
	}
}

// claimDone ends a claim: the box is the create's (or gone) and the
// filler may start another.
func (m *Manager) claimDone(wb *warmBox) {
	m.warm.mu.Lock()
	m.warm.claimed[wb.shape]--
	m.warm.mu.Unlock()
	m.warm.kick()
}

// discardWarm ends a claim by destroying the box, in the background.
func (m *Manager) discardWarm(wb *warmBox) {
	m.claimDone(wb)
	go m.destroyWarm(wb)
}

// unclaimWarm puts a claimed warm box, unchanged, back at the front.
func (m *Manager) unclaimWarm(wb *warmBox) {
	m.warm.mu.Lock()
	m.warm.claimed[wb.shape]--
	m.warm.ready[wb.shape] = append([]*warmBox{wb}, m.warm.ready[wb.shape]...)
	n := len(m.warm.ready[wb.shape])
	m.warm.mu.Unlock()
	m.warmGauge(wb.shape, n)
}

// reshaped reports whether rec asks for other CPU or memory limits than
// the defaults a warm box starts with.
func (m *Manager) reshaped(rec store.Box) bool {
	l := m.cfg.Limits
	return rec.CPUs != l.CPUs.Default || rec.MemoryMiB != l.MemoryMiB.Default
}

// createWarm makes the box of rec from a claimed warm box: it gives the
// box the asked-for limits, then stores the record, as running, under
// the warm box's id. A refused record (quota, name) hands the warm box
// back with its old limits. ok is false when the warm box could not be
// used (its limits could not be changed): the caller starts a box.
func (m *Manager) createWarm(ctx context.Context, rec store.Box, idem *store.Idempotency, wb *warmBox, o createOptions) (res CreateResult, ok bool, err error) {
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	l := m.cfg.Limits
	reshaped := m.reshaped(rec)
	if reshaped {
		if err := m.reshapeWarm(work, wb, rec.CPUs, rec.MemoryMiB); err != nil {
			m.log.Error("set a warm box's limits; starting a box instead", "box", wb.id, "err", err)
			m.discardWarm(wb)
			return CreateResult{}, false, nil
		}
	}
	now := time.Now().UTC()
	rec.ID, rec.Status, rec.CreatedAt, rec.UpdatedAt, rec.StartedAt = wb.id, api.StatusRunning, now, now, &now
	h, err := m.insert(ctx, rec, idem)
	if err != nil {
		if reshaped {
			if rerr := m.reshapeWarm(work, wb, l.CPUs.Default, l.MemoryMiB.Default); rerr != nil {
				m.log.Error("restore a warm box's limits; discarding it", "box", wb.id, "err", rerr)
				m.discardWarm(wb)
				return CreateResult{}, true, err
			}
		}
		m.unclaimWarm(wb)
		return CreateResult{}, true, err
	}
	m.claimDone(wb)
	h.mu.Lock()
	h.devbox, h.agent = o.devbox, wb.agent
	h.op, h.status = "", api.StatusRunning
	m.touchLocked(h)
	h.mu.Unlock()
	return CreateResult{Box: m.view(rec)}, true, nil
}

// reshapeWarm sets a warm box's CPU and memory limits.
func (m *Manager) reshapeWarm(ctx context.Context, wb *warmBox, cpus, mem int64) error {
	r := runtime.Resources{CPUs: cpus, MemoryMiB: mem, Pids: m.cfg.Limits.Pids}
	if err := m.cfg.Driver.(runtime.Updater).Update(ctx, wb.id, r); err != nil {
		m.runtimeFailed("update")
		return err
	}
	return nil
}

// destroyWarm removes a warm box nobody claimed.
func (m *Manager) destroyWarm(wb *warmBox) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wb.agent.Close()
	if err := m.cfg.Driver.Destroy(ctx, wb.id); err != nil {
		m.runtimeFailed("destroy")
		m.log.Error("destroy warm box", "box", wb.id, "err", err)
	}
}

// closeWarm waits for the filler to stop and removes every warm box.
func (m *Manager) closeWarm() {
	<-m.warm.done
	m.warm.mu.Lock()
	var all []*warmBox
	for s, q := range m.warm.ready {
		all = append(all, q...)
		delete(m.warm.ready, s)
		m.warmGauge(s, 0)
	}
	m.warm.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, wb := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			m.destroyWarm(wb)
		})
	}
	wg.Wait()
}

func (m *Manager) warmGauge(s WarmShape, n int) {
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.WarmBoxes.WithLabelValues(s.Image, strconv.FormatInt(s.DiskGiB, 10)).Set(float64(n))
	}
}

func (m *Manager) warmClaimed(result string) {
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.WarmClaims.WithLabelValues(result).Inc()
	}
}

// withEnv lays a request's environment over the box's own.
func (h *handle) withEnv(env map[string]string) map[string]string {
	if len(h.env) == 0 {
		return env
	}
	out := maps.Clone(h.env)
	maps.Copy(out, env)
	return out
}
