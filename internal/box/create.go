package box

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/panion/client"
	"github.com/PostHog/hogland/internal/runtime"
	"github.com/PostHog/hogland/internal/store"
)

// CreateResult is a created (or, for a repeated Idempotency-Key, found) box.
type CreateResult struct {
	Box      api.Box
	Replayed bool
}

// NewBoxID returns a fresh box id: "box-" and 12 hex digits.
func NewBoxID() string { return auth.RandomID("box-", 12) }

// Create makes a box and returns once it runs and its agent answers. With
// an idempotency key, a repeat of the same request returns the same box.
// The box outlives ctx: a caller that goes away does not abort a create
// half-way; the work either completes or is cleaned up.
func (m *Manager) Create(ctx context.Context, owner string, req api.CreateBoxRequest, idemKey string) (res CreateResult, err error) {
	return m.create(ctx, owner, req, idemKey, createOptions{})
}

func (m *Manager) create(ctx context.Context, owner string, req api.CreateBoxRequest, idemKey string, o createOptions) (res CreateResult, err error) {
	start := time.Now()
	m.warm.createBegan()
	defer m.warm.createEnded()
	defer func() {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.observe(createSeconds, result, start)
	}()
	// Validate (and resolve a snapshot) before the idempotency check, as
	// before: a bad request is a 400 whatever its key.
	first, firstSn, err := m.prepareFrom(ctx, owner, req, o)
	if err != nil {
		return CreateResult{}, err
	}
	var idem *store.Idempotency
	if idemKey != "" {
		if len(idemKey) > 255 {
			return CreateResult{}, errs.New(errs.Invalid, "Idempotency-Key is longer than 255 characters")
		}
		hash := requestHash(req)
		prev, err := m.store.Idempotent(ctx, owner, idemKey)
		switch {
		case err == nil && prev.RequestHash != hash:
			return CreateResult{}, errs.New(errs.Conflict, "Idempotency-Key %q was already used with a different request", idemKey)
		case err == nil:
			return m.replay(ctx, owner, prev.BoxID)
		case !errs.Is(err, errs.NotFound):
			return CreateResult{}, err
		}
		idem = &store.Idempotency{PrincipalID: owner, Key: idemKey, RequestHash: hash}
	}
	if wb := m.claimWarm(ctx, first); wb != nil { // warm.go
		if res, ok, err := m.createWarm(ctx, first, idem, wb, o); ok {
			return res, err
		}
	}
	rec, layers, h, err := m.stage(ctx, owner, req, idem, o, first, firstSn) // create_from.go: fetches layers, inserts
	if err != nil {
		return CreateResult{}, err
	}
	// The box outlives the request that asked for it.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.AgentTimeout+30*time.Second)
	defer cancel()
	if err := m.boot(work, h, rec, layers); err != nil {
		return CreateResult{}, err
	}
	b, err := m.store.Box(work, rec.ID)
	if err != nil {
		return CreateResult{}, err
	}
	return CreateResult{Box: m.view(b)}, nil
}

// prepare validates a request and fills in defaults.
func (m *Manager) prepare(req api.CreateBoxRequest) (store.Box, error) {
	l := m.cfg.Limits
	kindName := req.Kind
	if kindName == "" {
		kindName = "default"
	}
	kind, ok := l.kind(kindName)
	if !ok {
		return store.Box{}, errs.New(errs.Invalid, "unknown kind %q; registered kinds: %s", req.Kind, l.kindNames())
	}
	img := req.Image
	if img == "" {
		img = l.DefaultImage
	}
	if !contains(l.Images, img) {
		return store.Box{}, errs.New(errs.Invalid, "unknown image %q; available: %v", img, l.Images)
	}
	access := req.AccessType
	if access == "" {
		access = api.AccessNone
	}
	if access != api.AccessNone && access != api.AccessPublic {
		return store.Box{}, errs.New(errs.Invalid, "access_type must be %q or %q, got %q", api.AccessNone, api.AccessPublic, access)
	}
	ttl := kind.DefaultTTLSeconds
	if req.TTLSeconds != nil {
		ttl = *req.TTLSeconds
	}
	b := store.Box{
		ID: NewBoxID(), Name: req.Name, Kind: kind.Name, Image: img,
		CPUs: orDefault(req.CPUs, l.CPUs), MemoryMiB: orDefault(req.MemoryMiB, l.MemoryMiB), DiskGiB: orDefault(req.DiskGiB, l.DiskGiB),
		Env: req.Env, Tags: dedupe(req.Tags), AccessType: access, TTLSeconds: ttl, Status: api.StatusCreating,
	}
	for _, c := range []struct {
		field string
		v     int64
		r     api.Range
	}{{"cpus", b.CPUs, l.CPUs}, {"memory_mib", b.MemoryMiB, l.MemoryMiB}, {"disk_gib", b.DiskGiB, l.DiskGiB}, {"ttl_seconds", b.TTLSeconds, l.TTLSeconds}} {
		if err := checkRange(c.field, c.v, c.r); err != nil {
			return store.Box{}, err
		}
	}
	if err := ValidateName(b.Name); err != nil {
		return store.Box{}, err
	}
	if err := ValidateTags(b.Tags); err != nil {
		return store.Box{}, err
	}
	if err := validateEnv(b.Env); err != nil {
		return store.Box{}, err
	}
	if b.Env == nil {
		b.Env = map[string]string{}
	}
	return b, nil
}

// layers returns the read-only root layers of an image. An image not
// built yet is built in the background; if that takes more than a few
// seconds the caller gets a 503 with Retry-After rather than a hung call.
func (m *Manager) layers(ctx context.Context, img string) ([]string, error) {
	type built struct {
		rootfs string
		err    error
	}
	ch := make(chan built, 1)
	go func() {
		// Not ctx: the build goes on after an impatient caller leaves.
		p, err := m.cfg.Images.Ensure(context.Background(), img)
		ch <- built{p, err}
	}()
	select {
	case b := <-ch:
		if b.err != nil {
			return nil, errs.Wrap(errs.Unavailable, b.err, "image %s could not be built", img)
		}
		return []string{b.rootfs}, nil
	case <-time.After(m.cfg.ImageWait):
		return nil, errs.BusyFor(30*time.Second, "image %s is being built (first use only); retry shortly", img).WithKind(errs.Unavailable)
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "request cancelled")
	}
}

// insert checks the quota and stores the new record as creating.
func (m *Manager) insert(ctx context.Context, b store.Box, idem *store.Idempotency) (*handle, error) {
	lock := m.ownerLock(b.OwnerID)
	lock.Lock()
	defer lock.Unlock()
	if err := m.checkQuota(ctx, b); err != nil {
		return nil, err
	}
	if b.CreatedAt.IsZero() {
		now := time.Now().UTC()
		b.CreatedAt, b.UpdatedAt = now, now
	}
	if idem != nil {
		idem.BoxID = b.ID
	}
	h := &handle{id: b.ID, owner: b.OwnerID, access: b.AccessType, op: "creating", status: api.StatusCreating, ttl: time.Duration(b.TTLSeconds) * time.Second, env: b.Env}
	m.mu.Lock()
	m.live[b.ID] = h
	m.mu.Unlock()
	if err := m.store.CreateBox(ctx, b, idem); err != nil {
		m.forget(b.ID)
		return nil, err
	}
	return h, nil
}

func (m *Manager) checkQuota(ctx context.Context, b store.Box) error {
	q, err := m.Quota(ctx, b.OwnerID) // the default with the owner's overrides (quota.go)
	if err != nil {
		return err
	}
	boxes, cpus, mem, err := m.store.OwnerUsage(ctx, b.OwnerID)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name       string
		used, want int64
		max        int64
	}{{"max_boxes", boxes, 1, q.MaxBoxes}, {"max_cpus", cpus, b.CPUs, q.MaxCPUs}, {"max_memory_mib", mem, b.MemoryMiB, q.MaxMemoryMiB}} {
		if c.used+c.want > c.max {
			return quotaExceeded(c.name, c.max, c.used, c.want, "this box needs", "destroy boxes you no longer need")
		}
	}
	return nil
}

// boot starts the box and waits for its agent; on failure the box is
// cleaned up and recorded as failed.
func (m *Manager) boot(ctx context.Context, h *handle, b store.Box, layers []string) error {
	spec := runtime.Spec{
		ID: b.ID, Layers: layers, CPUs: b.CPUs, MemoryMiB: b.MemoryMiB, DiskGiB: b.DiskGiB,
		Pids: m.cfg.Limits.Pids, AgentPath: m.cfg.AgentPath, Env: envList(b.Env),
	}
	err := m.cfg.Driver.Create(ctx, spec)
	if err == nil {
		h.agent = m.newAgent(b.ID)
		err = m.waitAgent(ctx, b.ID, h.agent)
	}
	if err != nil {
		m.runtimeFailed("create")
		m.log.Error("create box", "box", b.ID, "err", err)
		m.fail(ctx, h, api.ReasonCreateFail, err.Error())
		if errs.KindOf(err) == errs.Internal {
			return errs.Wrap(errs.Internal, err, "box %s failed to start", b.ID)
		}
		return err
	}
	return m.markRunning(ctx, h)
}

// markRunning records a started box as running.
func (m *Manager) markRunning(ctx context.Context, h *handle) error {
	if err := m.store.SetStatus(ctx, h.id, api.StatusRunning, "", "running", "", time.Now().UTC()); err != nil {
		return err
	}
	h.mu.Lock()
	h.op, h.status = "", api.StatusRunning
	m.touchLocked(h)
	h.mu.Unlock()
	return nil
}

// waitAgent polls the new box's agent until it answers.
func (m *Manager) waitAgent(ctx context.Context, id string, agent *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.AgentTimeout)
	defer cancel()
	start, delay := time.Now(), time.Millisecond
	for {
		hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := agent.Health(hctx)
		hcancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errs.Wrap(errs.Unavailable, err, "box %s: agent did not answer within %s", id, m.cfg.AgentTimeout)
		case <-time.After(delay):
		}
		// A failed dial costs microseconds: poll every millisecond while
		// an agent normally starts, then back off.
		if time.Since(start) > 200*time.Millisecond && delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

func (m *Manager) replay(ctx context.Context, owner, id string) (CreateResult, error) {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return CreateResult{}, err
	}
	if b.OwnerID != owner {
		return CreateResult{}, notFound(id)
	}
	if b.Status == api.StatusCreating {
		return CreateResult{}, errs.BusyFor(time.Second, "box %s (same Idempotency-Key) is still being created", id)
	}
	return CreateResult{Box: m.view(b), Replayed: true}, nil
}

func requestHash(req api.CreateBoxRequest) string {
	b, err := json.Marshal(req)
	if err != nil {
		panic(fmt.Sprintf("marshal create request: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func createSeconds(m *metrics.Metrics) *prometheus.HistogramVec { return m.CreateSeconds }
