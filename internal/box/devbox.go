package box

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// A devbox is a named, long-lived box: it runs in a box of kind
// "devbox"; stopping it snapshots that box and frees it, and starting it
// makes a new box from the snapshot, so its disk is as it was left. The
// box's idle timeout is the devbox's auto_stop_seconds: the monitor stops
// an idle devbox (devboxIdle) instead of ending its box.
//
// Each devbox's transitions (create, start, stop, delete) are serialised
// by a lock of its own; calls that need its box (exec, proxy) wait for a
// transition under way and may start a stopped devbox (auto_start).

// devboxState is the Manager's in-memory devbox state.
type devboxState struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex // per devbox id
	ops   map[string]string      // transition under way (starting, stopping)
}

var devboxIDRE = regexp.MustCompile(`^dbx-[0-9a-f]{12}$`)

func (m *Manager) devboxLock(id string) *sync.Mutex {
	m.dev.mu.Lock()
	defer m.dev.mu.Unlock()
	l := m.dev.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		m.dev.locks[id] = l
	}
	return l
}

func (m *Manager) setDevboxOp(id, op string) {
	m.dev.mu.Lock()
	defer m.dev.mu.Unlock()
	if op == "" {
		delete(m.dev.ops, id)
	} else {
		m.dev.ops[id] = op
	}
}

func (m *Manager) devboxOp(id string) string {
	m.dev.mu.Lock()
	defer m.dev.mu.Unlock()
	return m.dev.ops[id]
}

// findDevbox returns the caller's devbox by id (dbx-...) or name.
func (m *Manager) findDevbox(ctx context.Context, owner, ref string) (store.Devbox, error) {
	var d store.Devbox
	var err error
	if devboxIDRE.MatchString(ref) {
		d, err = m.store.Devbox(ctx, ref)
		if err == nil && d.OwnerID != owner {
			err = errs.New(errs.NotFound, "devbox %s not found", ref)
		}
	} else {
		d, err = m.store.DevboxByName(ctx, owner, ref)
	}
	return d, err
}

// lockDevbox finds the caller's devbox and takes its lock; the caller
// unlocks. The record returned is read under the lock, and brought in
// step with its box (a box that ended on its own stops the devbox).
func (m *Manager) lockDevbox(ctx context.Context, owner, ref string) (store.Devbox, func(), error) {
	d, err := m.findDevbox(ctx, owner, ref)
	if err != nil {
		return store.Devbox{}, nil, err
	}
	return m.lockFound(ctx, d.ID)
}

// lockFound is lockDevbox for a devbox already found.
func (m *Manager) lockFound(ctx context.Context, id string) (store.Devbox, func(), error) {
	l := m.devboxLock(id)
	l.Lock()
	d, err := m.freshDevbox(ctx, id) // it may have changed meanwhile
	if err != nil {
		l.Unlock()
		return store.Devbox{}, nil, err
	}
	return d, l.Unlock, nil
}

// freshDevbox reads a devbox's record and brings it in step with its
// box. The caller holds the devbox's lock.
func (m *Manager) freshDevbox(ctx context.Context, id string) (store.Devbox, error) {
	d, err := m.store.Devbox(ctx, id)
	if err != nil {
		return store.Devbox{}, err
	}
	return m.reconcileDevbox(ctx, d)
}

// reconcileDevbox stops a running devbox whose box is no longer live (it
// was killed, ran out of memory, or its host lost it): its disk is as of
// its last stop. The caller holds the devbox's lock.
func (m *Manager) reconcileDevbox(ctx context.Context, d store.Devbox) (store.Devbox, error) {
	if d.Status != api.DevboxRunning {
		return d, nil
	}
	if m.liveHandle(d.BoxID) != nil {
		return d, nil
	}
	status, detail := api.DevboxStopped, "its box ended on its own; the disk is as of the last stop"
	if d.SnapshotID == "" {
		detail = "its box ended on its own before the devbox was ever stopped; it starts afresh"
		if d.SourceSnapshotID != "" {
			detail = "its box ended on its own before the devbox was ever stopped; it starts again from " + d.SourceSnapshotID
		}
	}
	if b, err := m.store.Box(ctx, d.BoxID); err == nil && b.Reason != "" {
		detail = fmt.Sprintf("box %s ended (%s): %s", d.BoxID, b.Reason, detail)
	}
	m.log.Warn("devbox lost its box", "devbox", d.ID, "box", d.BoxID, "detail", detail)
	empty := ""
	ev := store.DevboxEvent{At: time.Now().UTC(), Type: "box_lost", Status: status, BoxID: d.BoxID, Detail: detail}
	if err := m.store.UpdateDevbox(ctx, d.ID, store.DevboxState{Status: &status, BoxID: &empty}, ev); err != nil {
		return d, err
	}
	d.Status, d.BoxID = status, ""
	return d, nil
}

// CreateDevbox makes a devbox and starts it; it answers once its box runs.
func (m *Manager) CreateDevbox(ctx context.Context, owner string, req api.CreateDevboxRequest) (api.Devbox, error) {
	if _, err := m.snapshotter(); err != nil {
		return api.Devbox{}, withContext(err, "devboxes need snapshots")
	}
	if req.Name == "" {
		return api.Devbox{}, errs.New(errs.Invalid, "name is required: a devbox is known by its name")
	}
	if err := ValidateName(req.Name); err != nil {
		return api.Devbox{}, err
	}
	if devboxIDRE.MatchString(req.Name) {
		return api.Devbox{}, errs.New(errs.Invalid, "name %q looks like a devbox id; pick another", req.Name)
	}
	autoStop := m.cfg.Limits.AutoStopSeconds.Default
	if req.AutoStopSeconds != nil {
		autoStop = *req.AutoStopSeconds
	}
	if err := m.checkAutoStop(autoStop); err != nil {
		return api.Devbox{}, err
	}
	autoStart := req.AutoStart == nil || *req.AutoStart
	boxReq := api.CreateBoxRequest{Image: req.Image, SnapshotID: req.SnapshotID, CPUs: req.CPUs, MemoryMiB: req.MemoryMiB, DiskGiB: req.DiskGiB, Env: req.Env}
	id := auth.RandomID("dbx-", 12)
	rec, sn, err := m.prepareFrom(ctx, owner, boxReq, createOptions{devbox: id, ttl: autoStop})
	if err != nil {
		return api.Devbox{}, err
	}
	now := time.Now().UTC()
	d := store.Devbox{
		ID: id, OwnerID: owner, Name: req.Name, Status: api.DevboxStopped, SourceSnapshotID: sn.ID, Image: rec.Image,
		CPUs: rec.CPUs, MemoryMiB: rec.MemoryMiB, DiskGiB: rec.DiskGiB, Env: rec.Env,
		AutoStopSeconds: autoStop, AutoStart: autoStart, CreatedAt: now, UpdatedAt: now,
	}
	l := m.devboxLock(id)
	l.Lock()
	defer l.Unlock()
	if err := m.store.CreateDevbox(ctx, d); err != nil {
		return api.Devbox{}, err
	}
	if d, err = m.startDevbox(ctx, d, "started"); err != nil {
		if derr := m.store.DeleteDevbox(context.WithoutCancel(ctx), id); derr != nil {
			m.log.Error("remove devbox that failed to start", "devbox", id, "err", derr)
		}
		return api.Devbox{}, err
	}
	return m.devboxView(d), nil
}

func (m *Manager) checkAutoStop(v int64) error {
	r := m.cfg.Limits.AutoStopSeconds
	if v != 0 && (v < r.Min || v > r.Max) {
		return errs.New(errs.Invalid, "auto_stop_seconds must be 0 (never) or between %d and %d, got %d", r.Min, r.Max, v)
	}
	return nil
}

// startDevbox makes the devbox's box, from its last stop's snapshot (or
// what it was made from), and records it running. The caller holds the
// devbox's lock; d is stopped.
func (m *Manager) startDevbox(ctx context.Context, d store.Devbox, event string) (store.Devbox, error) {
	m.setDevboxOp(d.ID, api.DevboxStarting)
	defer m.setDevboxOp(d.ID, "")
	from := d.SnapshotID
	if from == "" {
		from = d.SourceSnapshotID
	}
	req := api.CreateBoxRequest{SnapshotID: from, CPUs: d.CPUs, MemoryMiB: d.MemoryMiB, DiskGiB: d.DiskGiB, Env: d.Env}
	if from == "" {
		req.Image = d.Image
	}
	start := time.Now()
	res, err := m.create(ctx, d.OwnerID, req, "", createOptions{devbox: d.ID, ttl: d.AutoStopSeconds, tags: []string{"devbox=" + d.Name}})
	if err != nil {
		return d, withContext(err, "devbox %s: start", d.Name)
	}
	status, boxID := api.DevboxRunning, res.Box.ID
	ev := store.DevboxEvent{At: time.Now().UTC(), Type: event, Status: status, BoxID: boxID, SnapshotID: from,
		Detail: fmt.Sprintf("box %s running in %d ms", boxID, time.Since(start).Milliseconds())}
	if err := m.store.UpdateDevbox(context.WithoutCancel(ctx), d.ID, store.DevboxState{Status: &status, BoxID: &boxID}, ev); err != nil {
		return d, err
	}
	d.Status, d.BoxID = status, boxID
	m.log.Info("devbox started", "devbox", d.ID, "name", d.Name, "box", boxID, "from", from, "event", event)
	return d, nil
}

// StartDevbox starts a stopped devbox. Starting a running one is harmless.
func (m *Manager) StartDevbox(ctx context.Context, owner, ref string) (api.Devbox, error) {
	d, unlock, err := m.lockDevbox(ctx, owner, ref)
	if err != nil {
		return api.Devbox{}, err
	}
	defer unlock()
	if d.Status == api.DevboxRunning {
		return m.devboxView(d), nil
	}
	d, err = m.startDevbox(context.WithoutCancel(ctx), d, "started")
	if err != nil {
		return api.Devbox{}, err
	}
	return m.devboxView(d), nil
}

// StopDevbox snapshots a running devbox's box and frees it. Stopping a
// stopped one is harmless.
func (m *Manager) StopDevbox(ctx context.Context, owner, ref string) (api.Devbox, error) {
	d, unlock, err := m.lockDevbox(ctx, owner, ref)
	if err != nil {
		return api.Devbox{}, err
	}
	defer unlock()
	if d.Status != api.DevboxRunning {
		return m.devboxView(d), nil
	}
	h, err := m.begin(ctx, owner, d.BoxID, "stopping")
	if err != nil {
		return api.Devbox{}, err
	}
	d, err = m.stopDevbox(context.WithoutCancel(ctx), d, h, "stopped")
	if err != nil {
		return api.Devbox{}, err
	}
	return m.devboxView(d), nil
}

// stopDevbox snapshots the devbox's box h, whose transition the caller
// holds, records the snapshot as the devbox's disk, frees the box, and
// drops the devbox's older snapshots that nothing stands on any more.
// The caller holds the devbox's lock.
func (m *Manager) stopDevbox(ctx context.Context, d store.Devbox, h *handle, event string) (store.Devbox, error) {
	m.setDevboxOp(d.ID, api.DevboxStopping)
	defer m.setDevboxOp(d.ID, "")
	snapper, err := m.snapshotter()
	if err != nil {
		h.end("")
		return d, err
	}
	start := time.Now()
	sn, err := m.takeSnapshot(ctx, snapper, h, d.ID, start, func() {})
	if err != nil {
		h.end("")
		return d, withContext(err, "devbox %s: stop: snapshot", d.Name)
	}
	// From here on the snapshot is the devbox's disk, even if what
	// follows fails (the box is then found gone at the next start).
	snapID := sn.ID
	if err := m.store.UpdateDevbox(ctx, d.ID, store.DevboxState{SnapshotID: &snapID}, store.DevboxEvent{At: time.Now().UTC()}); err != nil {
		h.end("")
		return d, err
	}
	d.SnapshotID = snapID
	detail := fmt.Sprintf("snapshot %s: %d bytes, paused %d ms", sn.ID, sn.SizeBytes, sn.PauseMS)
	if err := m.finish(ctx, h, api.StatusStopped, api.ReasonDevboxStopped, api.ReasonDevboxStopped, "devbox "+d.Name+" stopped; "+detail); err != nil {
		return d, err
	}
	status, empty := api.DevboxStopped, ""
	detail += fmt.Sprintf("; stopped in %d ms", time.Since(start).Milliseconds())
	ev := store.DevboxEvent{At: time.Now().UTC(), Type: event, Status: status, BoxID: d.BoxID, SnapshotID: sn.ID, Detail: detail}
	if err := m.store.UpdateDevbox(ctx, d.ID, store.DevboxState{Status: &status, BoxID: &empty}, ev); err != nil {
		return d, err
	}
	m.log.Info("devbox stopped", "devbox", d.ID, "name", d.Name, "box", d.BoxID, "snapshot", sn.ID, "event", event)
	d.Status, d.BoxID = status, ""
	m.pruneDevboxSnapshots(ctx, d)
	return d, nil
}

// pruneDevboxSnapshots deletes the devbox's snapshots other than its
// current one that nothing stands on (each stop's snapshot stacks on the
// one before until a merge flattens the chain), newest first.
func (m *Manager) pruneDevboxSnapshots(ctx context.Context, d store.Devbox) {
	ids, err := m.store.DevboxSnapshots(ctx, d.ID)
	if err != nil {
		m.log.Error("list devbox snapshots", "devbox", d.ID, "err", err)
		return
	}
	for _, id := range ids {
		if id == d.SnapshotID {
			continue
		}
		if err := m.DeleteSnapshot(ctx, d.OwnerID, id); err != nil && !errs.Is(err, errs.Conflict) {
			m.log.Error("delete old devbox snapshot", "devbox", d.ID, "snapshot", id, "err", err)
		}
	}
}

// devboxIdle is the monitor finding a devbox's box idle past its
// auto_stop_seconds: the devbox stops, in the background.
func (m *Manager) devboxIdle(h *handle, devbox string) {
	h.mu.Lock()
	if h.op != "" || h.calls > 0 || time.Now().Before(h.expires) {
		h.mu.Unlock()
		return
	}
	h.op = "stopping" // new calls wait (409 busy) from now on
	h.mu.Unlock()
	go func() {
		ctx := context.Background()
		l := m.devboxLock(devbox)
		l.Lock()
		defer l.Unlock()
		d, err := m.store.Devbox(ctx, devbox)
		if err != nil || d.Status != api.DevboxRunning || d.BoxID != h.id {
			h.end("")
			return
		}
		m.log.Info("devbox idle: stopping", "devbox", d.ID, "name", d.Name, "idle_seconds", d.AutoStopSeconds)
		if _, err := m.stopDevbox(ctx, d, h, "auto_stopped"); err != nil {
			m.log.Error("auto-stop devbox", "devbox", d.ID, "err", err)
		}
	}()
}

// DevboxBox returns the id of the box a devbox runs in, starting the
// devbox first if it is stopped and lets calls start it (auto_start).
func (m *Manager) DevboxBox(ctx context.Context, owner, ref string) (string, error) {
	d, err := m.findDevbox(ctx, owner, ref)
	if err != nil {
		return "", err
	}
	// The hot path (every request proxied to a devbox): a running devbox
	// whose box is live and in no transition needs neither its lock nor
	// another read.
	if d.Status == api.DevboxRunning && m.boxSteady(d.BoxID) {
		return d.BoxID, nil
	}
	d, unlock, err := m.lockFound(ctx, d.ID)
	if err != nil {
		return "", err
	}
	defer unlock()
	switch {
	case d.Status == api.DevboxRunning:
		return d.BoxID, nil
	case !d.AutoStart:
		return "", errs.New(errs.Conflict, "devbox %s is %s and does not start on its own (auto_start is off); start it first", d.Name, d.Status)
	}
	if d, err = m.startDevbox(context.WithoutCancel(ctx), d, "auto_started"); err != nil {
		return "", err
	}
	return d.BoxID, nil
}

// ExecDevbox runs a command in a devbox's box, starting the devbox first
// if it is stopped and auto_start is on.
func (m *Manager) ExecDevbox(ctx context.Context, owner, ref string, req api.ExecRequest) (api.ExecResult, error) {
	for attempt := 1; ; attempt++ {
		boxID, err := m.DevboxBox(ctx, owner, ref)
		if err != nil {
			return api.ExecResult{}, err
		}
		res, err := m.Exec(ctx, owner, boxID, req)
		// The devbox may be stopping (busy) or have stopped between finding
		// its box and the exec: wait for that, and start it again.
		retry := errs.Is(err, errs.Busy) || (errs.Is(err, errs.Conflict) && m.liveHandle(boxID) == nil)
		if !retry || attempt == 40 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// boxSteady reports whether box id is live with no transition under way
// (a stop sets one before it changes the devbox's record).
func (m *Manager) boxSteady(id string) bool {
	h := m.liveHandle(id)
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.op == ""
}

// GetDevbox returns the caller's devbox by id or name.
func (m *Manager) GetDevbox(ctx context.Context, owner, ref string) (api.Devbox, error) {
	d, err := m.findDevbox(ctx, owner, ref)
	if err != nil {
		return api.Devbox{}, err
	}
	return m.devboxView(m.settled(ctx, d)), nil
}

// settled brings a record in step with its box when no transition holds
// the devbox (one that does will update the record itself).
func (m *Manager) settled(ctx context.Context, d store.Devbox) store.Devbox {
	l := m.devboxLock(d.ID)
	if !l.TryLock() {
		return d
	}
	defer l.Unlock()
	if fresh, err := m.freshDevbox(ctx, d.ID); err == nil {
		return fresh
	}
	return d
}

// ListDevboxes returns one page of the caller's devboxes, newest first.
func (m *Manager) ListDevboxes(ctx context.Context, owner string, limit int, cursor string) (api.DevboxList, error) {
	ds, next, err := m.store.ListDevboxes(ctx, owner, limit, cursor)
	if err != nil {
		return api.DevboxList{}, err
	}
	out := api.DevboxList{Items: make([]api.Devbox, 0, len(ds)), NextCursor: next}
	for _, d := range ds {
		out.Items = append(out.Items, m.devboxView(m.settled(ctx, d)))
	}
	return out, nil
}

// UpdateDevbox changes a devbox's auto_stop_seconds and auto_start; a new
// auto_stop_seconds restarts its idle clock.
func (m *Manager) UpdateDevbox(ctx context.Context, owner, ref string, req api.UpdateDevboxRequest) (api.Devbox, error) {
	if req.AutoStopSeconds != nil {
		if err := m.checkAutoStop(*req.AutoStopSeconds); err != nil {
			return api.Devbox{}, err
		}
	}
	d, unlock, err := m.lockDevbox(ctx, owner, ref)
	if err != nil {
		return api.Devbox{}, err
	}
	defer unlock()
	now := time.Now().UTC()
	if err := m.store.UpdateDevbox(ctx, d.ID, store.DevboxState{AutoStopSeconds: req.AutoStopSeconds, AutoStart: req.AutoStart}, store.DevboxEvent{At: now}); err != nil {
		return api.Devbox{}, err
	}
	if req.AutoStopSeconds != nil && d.Status == api.DevboxRunning {
		if h := m.liveHandle(d.BoxID); h != nil {
			h.mu.Lock()
			h.ttl = time.Duration(*req.AutoStopSeconds) * time.Second
			h.expires = time.Time{}
			m.touchLocked(h)
			h.mu.Unlock()
			if err := m.store.UpdateBox(ctx, d.BoxID, store.BoxUpdate{TTLSeconds: req.AutoStopSeconds}, now); err != nil {
				return api.Devbox{}, err
			}
		}
	}
	if d, err = m.store.Devbox(ctx, d.ID); err != nil {
		return api.Devbox{}, err
	}
	return m.devboxView(d), nil
}

// DeleteDevbox destroys a devbox's box, if it runs, and deletes the
// devbox, its history and its snapshots (any that other boxes or
// snapshots stand on stay, as the caller's plain snapshots).
func (m *Manager) DeleteDevbox(ctx context.Context, owner, ref string) error {
	d, unlock, err := m.lockDevbox(ctx, owner, ref)
	if err != nil {
		return err
	}
	defer unlock()
	ctx = context.WithoutCancel(ctx)
	if d.Status == api.DevboxRunning {
		if err := m.Destroy(ctx, owner, d.BoxID); err != nil {
			return err
		}
	}
	if err := m.store.DeleteDevbox(ctx, d.ID); err != nil {
		return err
	}
	ids, err := m.store.DevboxSnapshots(ctx, d.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := m.DeleteSnapshot(ctx, owner, id); err != nil && !errs.Is(err, errs.Conflict) {
			m.log.Error("delete deleted devbox's snapshot", "devbox", d.ID, "snapshot", id, "err", err)
		}
	}
	if err := m.store.DisownSnapshots(ctx, d.ID); err != nil {
		return err
	}
	m.log.Info("devbox deleted", "devbox", d.ID, "name", d.Name)
	return nil
}

// DevboxHistory returns a devbox's events after seq after, oldest first.
func (m *Manager) DevboxHistory(ctx context.Context, owner, ref string, after int64, limit int) (api.DevboxEventList, error) {
	d, err := m.findDevbox(ctx, owner, ref)
	if err != nil {
		return api.DevboxEventList{}, err
	}
	evs, err := m.store.DevboxEvents(ctx, d.ID, after, limit)
	if err != nil {
		return api.DevboxEventList{}, err
	}
	out := api.DevboxEventList{Items: make([]api.DevboxEvent, 0, len(evs))}
	for _, e := range evs {
		out.Items = append(out.Items, api.DevboxEvent{Seq: e.Seq, DevboxID: e.DevboxID, At: e.At, Type: e.Type, Status: e.Status,
			BoxID: e.BoxID, SnapshotID: e.SnapshotID, Detail: e.Detail})
	}
	return out, nil
}

// recoverDevboxes ties recovered boxes back to their devboxes, and stops
// the devboxes whose boxes did not survive.
func (m *Manager) recoverDevboxes(ctx context.Context) error {
	cursor := ""
	for {
		ds, next, err := m.store.ListDevboxes(ctx, "", 500, cursor)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Status != api.DevboxRunning {
				continue
			}
			if h := m.liveHandle(d.BoxID); h != nil {
				h.mu.Lock()
				h.devbox = d.ID
				h.mu.Unlock()
				continue
			}
			if _, err := m.reconcileDevbox(ctx, d); err != nil {
				m.log.Error("recover devbox", "devbox", d.ID, "err", err)
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func (m *Manager) devboxView(d store.Devbox) api.Devbox {
	status := d.Status
	if op := m.devboxOp(d.ID); op != "" {
		status = op
	}
	env := d.Env
	if env == nil {
		env = map[string]string{}
	}
	return api.Devbox{
		ID: d.ID, Name: d.Name, Status: status, BoxID: d.BoxID, SnapshotID: d.SnapshotID, SourceSnapshotID: d.SourceSnapshotID,
		Image: d.Image, Spec: api.Shape{CPUs: d.CPUs, MemoryMiB: d.MemoryMiB, DiskGiB: d.DiskGiB}, Env: env,
		AutoStopSeconds: d.AutoStopSeconds, AutoStart: d.AutoStart, OwnerID: d.OwnerID, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}
