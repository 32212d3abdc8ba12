package box

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/runtime"
	"github.com/PostHog/hogland/internal/store"
)

// opSnapshotting is the transition a snapshot holds on its box while it
// captures the layer. Unlike other transitions it lets exec, file and
// proxy calls through: the box only stops for the freeze.
const opSnapshotting = "snapshotting"

// AliasPrefix marks an alias where a snapshot id is expected.
const AliasPrefix = "alias:"

// NewSnapshotID returns a fresh snapshot id: "snap-" and 12 hex digits.
func NewSnapshotID() string { return auth.RandomID("snap-", 12) }

var snapshotIDRE = regexp.MustCompile(`^snap-[0-9a-f]{12}$`)

// ValidateAlias checks an alias name: the rules of box names.
func ValidateAlias(name string) error {
	if !nameRE.MatchString(name) {
		return errs.New(errs.Invalid, "alias %q must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// snapshotter returns the driver's Snapshotter and the layer store, or
// says why snapshots cannot be taken here.
func (m *Manager) snapshotter() (runtime.Snapshotter, error) {
	s, ok := m.cfg.Driver.(runtime.Snapshotter)
	if !ok || m.cfg.Layers == nil {
		return nil, errs.New(errs.Invalid, "this server's runtime (%s) cannot take snapshots", m.cfg.Driver.Name())
	}
	return s, nil
}

// Snapshot captures a running or paused box's state and returns the
// snapshot's record once it is durable. A running box is frozen only for
// the last moment of the capture and keeps running.
func (m *Manager) Snapshot(ctx context.Context, owner, id string) (api.Snapshot, error) {
	sn, err := m.snapshot(ctx, owner, id, "")
	if err != nil {
		return api.Snapshot{}, err
	}
	return snapshotView(sn), nil
}

// snapshot takes a snapshot of box id for owner; devbox marks it as a
// devbox's.
func (m *Manager) snapshot(ctx context.Context, owner, id, devbox string) (sn store.Snapshot, err error) {
	start := time.Now()
	defer func() {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.observe(snapshotSeconds, result, start)
	}()
	snapper, err := m.snapshotter()
	if err != nil {
		return store.Snapshot{}, err
	}
	if err := m.CheckSnapshotQuota(ctx, owner, 0); err != nil {
		return store.Snapshot{}, err
	}
	h, err := m.begin(ctx, owner, id, opSnapshotting)
	if err != nil {
		return store.Snapshot{}, err
	}
	return m.takeSnapshot(ctx, snapper, h, devbox, start, func() { h.end("") })
}

// takeSnapshot snapshots the box of h, whose transition the caller holds;
// release is called once the box's layer is captured (the rest is work on
// the copy).
func (m *Manager) takeSnapshot(ctx context.Context, snapper runtime.Snapshotter, h *handle, devbox string, start time.Time, release func()) (store.Snapshot, error) {
	id, owner := h.id, h.owner
	h.mu.Lock()
	status := h.status
	h.mu.Unlock()
	if status != api.StatusRunning && status != api.StatusPaused {
		release()
		return store.Snapshot{}, errs.New(errs.Conflict, "box %s is %s; only a running or paused box can be snapshotted", id, status)
	}
	// The snapshot is made whole even if the caller goes away.
	ctx = context.WithoutCancel(ctx)
	rec, err := m.store.Box(ctx, id)
	if err != nil {
		release()
		return store.Snapshot{}, err
	}
	dir := m.cfg.Layers.WorkDir("capture")
	c, err := snapper.CaptureLayer(ctx, id, dir)
	release()
	if err != nil {
		m.cfg.Layers.Discard(dir)
		m.runtimeFailed("snapshot")
		return store.Snapshot{}, errs.Wrap(errs.Internal, err, "snapshot %s: capture failed", id)
	}
	if mt := m.cfg.Metrics; mt != nil {
		mt.SnapshotPauseSeconds.Observe(c.Paused.Seconds())
	}
	sn := store.Snapshot{
		ID: NewSnapshotID(), OwnerID: owner, BoxID: id, ParentID: rec.SnapshotID, DevboxID: devbox,
		Kind: snapper.SnapshotKind(), Image: rec.Image, CPUs: rec.CPUs, MemoryMiB: rec.MemoryMiB, DiskGiB: rec.DiskGiB,
		PauseMS: int64((c.Paused + time.Millisecond - 1) / time.Millisecond), // rounded up: never understated
	}
	if err := m.storeLayer(ctx, &sn, rec, dir); err != nil {
		return store.Snapshot{}, err
	}
	sn.DurationMS = time.Since(start).Milliseconds()
	sn.CreatedAt = time.Now().UTC()
	if err := m.store.CreateSnapshot(ctx, sn); err != nil {
		m.dropLayer(ctx, sn.Digest)
		return store.Snapshot{}, err
	}
	detail := fmt.Sprintf("%s: %d bytes, paused %d ms", sn.ID, sn.SizeBytes, sn.PauseMS)
	if err := m.store.AddEvent(ctx, store.Event{BoxID: id, At: sn.CreatedAt, Type: "snapshot", Status: status, Detail: detail}); err != nil {
		m.log.Warn("record snapshot event", "box", id, "err", err)
	}
	m.log.Info("snapshot taken", "box", id, "snapshot", sn.ID, "digest", sn.Digest, "bytes", sn.SizeBytes,
		"pause_ms", sn.PauseMS, "took_ms", sn.DurationMS, "depth", len(sn.Layers))
	sn.Aliases = []string{}
	return sn, nil
}

// storeLayer merges the captured layer in dir with the layers below it
// when the stack would get too deep, archives it into the blob store and
// fills in sn's layer fields.
func (m *Manager) storeLayer(ctx context.Context, sn *store.Snapshot, rec store.Box, dir string) error {
	var below []string
	if rec.SnapshotID != "" {
		parent, err := m.store.Snapshot(ctx, rec.SnapshotID)
		if err != nil {
			m.cfg.Layers.Discard(dir)
			return fmt.Errorf("snapshot %s: its box's snapshot: %w", rec.ID, err)
		}
		below, sn.BaseID = parent.Layers, parent.ID
	}
	// A captured layer holds at most what the box's disk can (holes are
	// not archived); a merged one holds what its layers held.
	maxBytes := rec.DiskGiB<<30 + 64<<20 // and the archive's headers
	if len(below)+1 > m.cfg.SnapshotMaxDepth {
		merged, err := m.cfg.Layers.Merge(ctx, dir, below)
		m.cfg.Layers.Discard(dir)
		if err != nil {
			return withContext(err, "snapshot of %s: merge %d layers", rec.ID, len(below)+1)
		}
		dir, below, sn.BaseID, maxBytes = merged, nil, "", 0
	}
	ly, err := m.cfg.Layers.Commit(ctx, dir, maxBytes)
	if err != nil {
		m.cfg.Layers.Discard(dir)
		return withContext(err, "snapshot of %s: store layer", rec.ID)
	}
	sn.Digest, sn.SizeBytes = ly.Digest, ly.Size
	sn.Layers = append([]string{ly.Digest}, below...)
	if err := m.CheckSnapshotQuota(ctx, sn.OwnerID, ly.Size); err != nil {
		m.dropLayer(ctx, ly.Digest)
		return err
	}
	return nil
}

// dropLayer frees a stored layer that no snapshot record uses.
func (m *Manager) dropLayer(ctx context.Context, digest string) {
	used, err := m.store.LayerUsed(ctx, digest)
	if err == nil && !used {
		err = m.cfg.Layers.Remove(ctx, digest)
	}
	if err != nil {
		m.log.Error("free unused layer", "digest", digest, "err", err)
	}
}

// GetSnapshot returns a snapshot the caller owns.
func (m *Manager) GetSnapshot(ctx context.Context, owner, id string) (api.Snapshot, error) {
	sn, err := m.ownSnapshot(ctx, owner, id)
	if err != nil {
		return api.Snapshot{}, err
	}
	return snapshotView(sn), nil
}

func (m *Manager) ownSnapshot(ctx context.Context, owner, id string) (store.Snapshot, error) {
	if !snapshotIDRE.MatchString(id) {
		return store.Snapshot{}, errs.New(errs.NotFound, "snapshot %s not found", id)
	}
	sn, err := m.store.Snapshot(ctx, id)
	if err != nil {
		return store.Snapshot{}, err
	}
	if sn.OwnerID != owner {
		return store.Snapshot{}, errs.New(errs.NotFound, "snapshot %s not found", id)
	}
	return sn, nil
}

// SnapshotListOptions selects snapshots to list.
type SnapshotListOptions struct {
	Alias  string
	BoxID  string
	Limit  int
	Cursor string
}

// ListSnapshots returns one page of the caller's snapshots, newest first.
func (m *Manager) ListSnapshots(ctx context.Context, owner string, o SnapshotListOptions) (api.SnapshotList, error) {
	sns, next, err := m.store.ListSnapshots(ctx, store.SnapshotFilter{
		OwnerID: owner, Alias: o.Alias, BoxID: o.BoxID, Limit: o.Limit, Cursor: o.Cursor,
	})
	if err != nil {
		return api.SnapshotList{}, err
	}
	out := api.SnapshotList{Items: make([]api.Snapshot, 0, len(sns)), NextCursor: next}
	for _, sn := range sns {
		out.Items = append(out.Items, snapshotView(sn))
	}
	return out, nil
}

// DeleteSnapshot deletes a snapshot nothing stands on (else a 409 naming
// what does) and frees its layer once no snapshot uses it.
func (m *Manager) DeleteSnapshot(ctx context.Context, owner, id string) error {
	sn, err := m.ownSnapshot(ctx, owner, id)
	if err != nil {
		return err
	}
	free, err := m.store.DeleteSnapshot(ctx, id)
	if err != nil {
		return err
	}
	if free && m.cfg.Layers != nil {
		if err := m.cfg.Layers.Remove(context.WithoutCancel(ctx), sn.Digest); err != nil {
			// The record is gone; the next start's cleanup frees the layer.
			m.log.Error("free deleted snapshot's layer", "snapshot", id, "digest", sn.Digest, "err", err)
		}
	}
	m.log.Info("snapshot deleted", "snapshot", id, "layer_freed", free)
	return nil
}

// SetAlias points the caller's alias at a snapshot of theirs, moving it
// in one step if it pointed elsewhere.
func (m *Manager) SetAlias(ctx context.Context, owner, id, name string) (api.SnapshotAlias, error) {
	if err := ValidateAlias(name); err != nil {
		return api.SnapshotAlias{}, err
	}
	if _, err := m.ownSnapshot(ctx, owner, id); err != nil {
		return api.SnapshotAlias{}, err
	}
	a := store.Alias{OwnerID: owner, Name: name, SnapshotID: id, UpdatedAt: time.Now().UTC()}
	prev, err := m.store.SetAlias(ctx, a)
	if err != nil {
		return api.SnapshotAlias{}, err
	}
	v := aliasView(a)
	if prev != id {
		v.PreviousSnapshotID = prev
	}
	return v, nil
}

// DeleteAlias removes the caller's alias from the snapshot it points at.
func (m *Manager) DeleteAlias(ctx context.Context, owner, id, name string) error {
	if err := ValidateAlias(name); err != nil {
		return err
	}
	if _, err := m.ownSnapshot(ctx, owner, id); err != nil {
		return err
	}
	return m.store.DeleteAlias(ctx, owner, name, id)
}

// ListAliases returns the caller's aliases by name.
func (m *Manager) ListAliases(ctx context.Context, owner string) (api.SnapshotAliasList, error) {
	as, err := m.store.ListAliases(ctx, owner)
	if err != nil {
		return api.SnapshotAliasList{}, err
	}
	out := api.SnapshotAliasList{Items: make([]api.SnapshotAlias, 0, len(as))}
	for _, a := range as {
		out.Items = append(out.Items, aliasView(a))
	}
	return out, nil
}

// resolveSnapshot finds the caller's snapshot by id or alias:NAME.
func (m *Manager) resolveSnapshot(ctx context.Context, owner, ref string) (store.Snapshot, error) {
	if name, ok := strings.CutPrefix(ref, AliasPrefix); ok {
		if err := ValidateAlias(name); err != nil {
			return store.Snapshot{}, err
		}
		a, err := m.store.GetAlias(ctx, owner, name)
		if errs.Is(err, errs.NotFound) {
			return store.Snapshot{}, errs.New(errs.NotFound, "snapshot alias %q not found (see GET /v1/snapshot-aliases)", name)
		}
		if err != nil {
			return store.Snapshot{}, err
		}
		ref = a.SnapshotID
	}
	return m.ownSnapshot(ctx, owner, ref)
}

// applySnapshot fills a create request's image and shape from the
// snapshot it starts from, and checks the snapshot's kind can take the
// shape asked for: a filesystem snapshot takes any shape, a memory
// snapshot only its own.
func applySnapshot(req *api.CreateBoxRequest, sn store.Snapshot) error {
	if req.Image != "" && req.Image != sn.Image {
		return errs.New(errs.Invalid, "image %q: snapshot %s was taken from image %q; leave image out to use it", req.Image, sn.ID, sn.Image)
	}
	req.Image = sn.Image
	if sn.Kind == api.SnapshotMemory {
		for _, c := range []struct {
			field      string
			asked, has int64
		}{{"cpus", req.CPUs, sn.CPUs}, {"memory_mib", req.MemoryMiB, sn.MemoryMiB}, {"disk_gib", req.DiskGiB, sn.DiskGiB}} {
			if c.asked != 0 && c.asked != c.has {
				return errs.New(errs.Invalid,
					"%s %d: snapshot %s is a memory snapshot of a box with cpus %d, memory_mib %d, disk_gib %d, and a box restored from it must have that same shape; leave cpus, memory_mib and disk_gib out to get it",
					c.field, c.asked, sn.ID, sn.CPUs, sn.MemoryMiB, sn.DiskGiB)
			}
		}
	}
	if req.CPUs == 0 {
		req.CPUs = sn.CPUs
	}
	if req.MemoryMiB == 0 {
		req.MemoryMiB = sn.MemoryMiB
	}
	if req.DiskGiB == 0 {
		req.DiskGiB = sn.DiskGiB
	}
	return nil
}

// snapshotLayers returns the root layers of a box made from sn: its
// snapshot layers (fetched and checked if not cached) over the image.
func (m *Manager) snapshotLayers(ctx context.Context, sn store.Snapshot, image []string) ([]string, error) {
	if m.cfg.Layers == nil {
		return nil, errs.New(errs.Invalid, "this server keeps no snapshots")
	}
	out := make([]string, 0, len(sn.Layers)+len(image))
	for _, d := range sn.Layers {
		p, err := m.cfg.Layers.Path(ctx, d)
		if err != nil {
			return nil, withContext(err, "snapshot %s", sn.ID)
		}
		out = append(out, p)
	}
	return append(out, image...), nil
}

// collectLayers frees the stored layers no snapshot record uses, left by
// a crash between storing a layer and recording its snapshot.
func (m *Manager) collectLayers(ctx context.Context) error {
	if m.cfg.Layers == nil {
		return nil
	}
	keep, err := m.store.SnapshotLayers(ctx)
	if err != nil {
		return err
	}
	return m.cfg.Layers.GC(ctx, keep)
}

func snapshotView(sn store.Snapshot) api.Snapshot {
	aliases := sn.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return api.Snapshot{
		ID: sn.ID, BoxID: sn.BoxID, ParentID: sn.ParentID, Kind: sn.Kind, Image: sn.Image,
		Spec:      api.Shape{CPUs: sn.CPUs, MemoryMiB: sn.MemoryMiB, DiskGiB: sn.DiskGiB},
		SizeBytes: sn.SizeBytes, PauseMS: sn.PauseMS, DurationMS: sn.DurationMS, Depth: len(sn.Layers),
		Digest: sn.Digest, Aliases: aliases, DevboxID: sn.DevboxID, OwnerID: sn.OwnerID, CreatedAt: sn.CreatedAt,
	}
}

func aliasView(a store.Alias) api.SnapshotAlias {
	return api.SnapshotAlias{Name: a.Name, SnapshotID: a.SnapshotID, UpdatedAt: a.UpdatedAt}
}

func snapshotSeconds(m *metrics.Metrics) *prometheus.HistogramVec { return m.SnapshotSeconds }

// withContext prefixes what an error tells the caller, keeping its kind:
// errs.Wrap shows only its own detail, and the causes here (a corrupt
// layer, a disk too small) are for the caller to see.
func withContext(err error, format string, args ...any) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return errs.Wrap(errs.Internal, err, format, args...)
	}
	c := *e
	c.Detail = fmt.Sprintf(format, args...) + ": " + e.Detail
	c.Err = err
	return &c
}
