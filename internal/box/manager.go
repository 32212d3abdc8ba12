// Package box is the lifecycle of hogboxes: it validates requests, keeps
// the durable record in the store in step with what the runtime driver
// holds, and talks to each box's agent.
package box

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/image"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/panion/client"
	"github.com/PostHog/hogland/internal/runtime"
	"github.com/PostHog/hogland/internal/snapshot"
	"github.com/PostHog/hogland/internal/store"
)

// Config holds a Manager's dependencies and settings.
type Config struct {
	Store     *store.Store
	Driver    runtime.Driver
	Images    *image.Store
	AgentPath string
	Limits    Limits
	Log       *slog.Logger
	// MonitorInterval is how often boxes are checked for exits, OOM kills
	// and expired TTLs (default 1 s).
	MonitorInterval time.Duration
	// AgentTimeout bounds how long create waits for a new box's agent.
	AgentTimeout time.Duration
	// Metrics, when set, record create and exec latency and runtime failures.
	Metrics *metrics.Metrics
	// ImageWait is how long a create waits for an image still being
	// built before answering 503 (default 5 s).
	ImageWait time.Duration
	// Layers keeps snapshot layers; nil turns snapshots and devboxes off
	// (snapshot.go).
	Layers *snapshot.Layers
	// SnapshotMaxDepth bounds the snapshot layers a box stacks: a snapshot
	// that would stack more merges them into one (default 8).
	SnapshotMaxDepth int
	// WarmPool is how many warm boxes (warm.go) to keep ready, by shape;
	// a shape's DiskGiB of 0 is the default disk size.
	WarmPool map[WarmShape]int
}

// Manager runs boxes. Its methods are safe for concurrent use.
type Manager struct {
	cfg   Config
	store *store.Store
	log   *slog.Logger

	mu      sync.Mutex
	live    map[string]*handle // boxes this process is running
	ownerMu map[string]*sync.Mutex

	stop chan struct{}
	done chan struct{}

	dev  devboxState // devbox.go
	warm warmPool    // warm.go
}

// handle is the in-memory state of one live box.
type handle struct {
	id     string
	owner  string
	access string // access_type: who may use the proxy

	mu      sync.Mutex // held across a lifecycle transition
	op      string     // transition in progress ("creating", "pausing", ...), or ""
	status  string
	ttl     time.Duration
	expires time.Time // idle deadline; zero when the box has no TTL
	saved   time.Time // expires as last written to the store
	calls   int       // exec and file calls in flight; a busy box is not idle
	oomBase int64
	agent   *client.Client
	proxy   *proxyTransport // to the box's ports through the agent's relay (proxytransport.go)
	devbox  string          // the devbox this box runs for, if any (devbox.go)
	// env is the box's environment from its create request. The agent
	// starts processes with it too, but a warm box (warm.go) was started
	// before it was known, so every exec and terminal carries it.
	env map[string]string
}

// New makes a Manager. Call Start to recover boxes and begin monitoring.
func New(cfg Config) *Manager {
	if cfg.MonitorInterval <= 0 {
		cfg.MonitorInterval = time.Second
	}
	if cfg.AgentTimeout <= 0 {
		cfg.AgentTimeout = 30 * time.Second
	}
	if cfg.ImageWait <= 0 {
		cfg.ImageWait = 5 * time.Second
	}
	if cfg.SnapshotMaxDepth <= 0 {
		cfg.SnapshotMaxDepth = 8
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	warm := make(map[WarmShape]int, len(cfg.WarmPool))
	for s, n := range cfg.WarmPool {
		if s.DiskGiB == 0 {
			s.DiskGiB = cfg.Limits.DiskGiB.Default
		}
		warm[s] += n
	}
	cfg.WarmPool = warm
	return &Manager{
		cfg:     cfg,
		store:   cfg.Store,
		log:     cfg.Log,
		live:    map[string]*handle{},
		ownerMu: map[string]*sync.Mutex{},
		dev:     devboxState{locks: map[string]*sync.Mutex{}, ops: map[string]string{}},
	}
}

// Limits returns the configured limits.
func (m *Manager) Limits() Limits { return m.cfg.Limits }

func (m *Manager) newAgent(id string) *client.Client {
	return client.New(func(ctx context.Context) (net.Conn, error) {
		return m.cfg.Driver.Dial(ctx, id)
	})
}

// lookup returns the live handle of a box the caller owns. A box that is
// not the caller's, or does not exist, is errs.NotFound; a box that is no
// longer live is errs.Conflict naming its status.
func (m *Manager) lookup(ctx context.Context, owner, id string) (*handle, error) {
	h := m.liveHandle(id)
	if h != nil {
		if h.owner != owner {
			return nil, notFound(id)
		}
		return h, nil
	}
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != owner {
		return nil, notFound(id)
	}
	return nil, errs.New(errs.Conflict, "box %s is %s%s", id, b.Status, reasonSuffix(b.Reason))
}

func notFound(id string) error { return errs.New(errs.NotFound, "box %s not found", id) }

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// ready returns the handle of a running box, for exec and file calls, and
// counts the call in flight until the caller calls m.release.
func (m *Manager) ready(ctx context.Context, owner, id string) (*handle, error) {
	h, err := m.lookup(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.op != "" && h.op != opSnapshotting { // a snapshot only freezes the box for a moment
		return nil, errs.BusyFor(time.Second, "box %s is %s; retry shortly", id, h.op)
	}
	switch h.status {
	case api.StatusRunning:
		m.touchLocked(h)
		h.calls++
		return h, nil
	case api.StatusPaused:
		return nil, errs.New(errs.Conflict, "box %s is paused; resume it first", id)
	}
	return nil, errs.New(errs.Conflict, "box %s is %s", id, h.status)
}

// begin marks a transition on a live box, or fails with errs.Busy when
// another is under way. The caller must call h.end.
func (m *Manager) begin(ctx context.Context, owner, id, op string) (*handle, error) {
	h, err := m.lookup(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.op != "" {
		return nil, errs.BusyFor(time.Second, "box %s is %s; retry shortly", id, h.op)
	}
	h.op = op
	return h, nil
}

func (h *handle) end(status string) {
	h.mu.Lock()
	h.op = ""
	if status != "" {
		h.status = status
	}
	h.mu.Unlock()
}

// release ends a call counted by ready, and restarts the idle clock.
func (m *Manager) release(h *handle) {
	h.mu.Lock()
	h.calls--
	m.touchLocked(h)
	h.mu.Unlock()
}

// touchLocked pushes the idle deadline forward; h.mu must be held. The
// store is updated by the monitor, so the hot path does no disk write.
func (m *Manager) touchLocked(h *handle) {
	if h.ttl <= 0 {
		return
	}
	if exp := time.Now().Add(h.ttl); exp.After(h.expires) {
		h.expires = exp
	}
}

func (m *Manager) ownerLock(owner string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.ownerMu[owner]
	if l == nil {
		l = &sync.Mutex{}
		m.ownerMu[owner] = l
	}
	return l
}

func (m *Manager) forget(id string) {
	m.mu.Lock()
	delete(m.live, id)
	m.mu.Unlock()
}

// liveHandle returns the handle of a live box, or nil.
func (m *Manager) liveHandle(id string) *handle {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live[id]
}

// Get returns the view of a box the caller owns.
func (m *Manager) Get(ctx context.Context, owner, id string) (api.Box, error) {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return api.Box{}, err
	}
	if b.OwnerID != owner {
		return api.Box{}, notFound(id)
	}
	return m.view(b), nil
}

// ListOptions selects boxes to list.
type ListOptions struct {
	Status []string
	Tags   []string
	Limit  int
	Cursor string
}

// List returns one page of the caller's boxes, newest first.
func (m *Manager) List(ctx context.Context, owner string, o ListOptions) (api.BoxList, error) {
	boxes, next, err := m.store.ListBoxes(ctx, store.BoxFilter{
		OwnerID: owner, Status: o.Status, Tags: o.Tags, Limit: o.Limit, Cursor: o.Cursor,
	})
	if err != nil {
		return api.BoxList{}, err
	}
	out := api.BoxList{Items: make([]api.Box, 0, len(boxes)), NextCursor: next}
	for _, b := range boxes {
		out.Items = append(out.Items, m.view(b))
	}
	return out, nil
}

// view renders a record, with the in-memory idle deadline when newer.
func (m *Manager) view(b store.Box) api.Box {
	h := m.liveHandle(b.ID)
	if h != nil {
		h.mu.Lock()
		if !h.expires.IsZero() && (b.ExpiresAt == nil || h.expires.After(*b.ExpiresAt)) {
			e := h.expires.UTC()
			b.ExpiresAt = &e
		}
		h.mu.Unlock()
	}
	tags := b.Tags
	if tags == nil {
		tags = []string{}
	}
	return api.Box{
		ID: b.ID, Status: b.Status, TerminationReason: b.Reason, Kind: b.Kind,
		Spec: api.BoxSpec{Name: b.Name, Image: b.Image, CPUs: b.CPUs, MemoryMiB: b.MemoryMiB, DiskGiB: b.DiskGiB},
		Tags: tags, AccessType: b.AccessType, TTLSeconds: b.TTLSeconds, ExpiresAt: b.ExpiresAt,
		SnapshotID: b.SnapshotID, OwnerID: b.OwnerID, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		StartedAt: b.StartedAt, EndedAt: b.EndedAt,
	}
}

// observe records a latency on a histogram vector when metrics are on.
func (m *Manager) observe(vec func(*metrics.Metrics) *prometheus.HistogramVec, label string, start time.Time) {
	if m.cfg.Metrics != nil {
		metrics.Since(vec(m.cfg.Metrics).WithLabelValues(label), start)
	}
}

// runtimeFailed counts a failed driver operation.
func (m *Manager) runtimeFailed(op string) {
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.RuntimeFailures.WithLabelValues(op).Inc()
	}
}
