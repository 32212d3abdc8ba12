package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// snapshotSchema is the migration for snapshots, aliases and devboxes.
// A snapshot's layers are the digests of the layer archives its root
// stacks (its own first); base_id is the snapshot whose layers it stacks
// on (empty when it was taken from an image box, or when its chain was
// merged into one layer), which it therefore depends on.
const snapshotSchema = `CREATE TABLE snapshots (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL,
	box_id TEXT NOT NULL,
	parent_id TEXT NOT NULL DEFAULT '',
	base_id TEXT NOT NULL DEFAULT '',
	devbox_id TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	image TEXT NOT NULL,
	cpus INTEGER NOT NULL,
	memory_mib INTEGER NOT NULL,
	disk_gib INTEGER NOT NULL,
	digest TEXT NOT NULL,
	layers TEXT NOT NULL,
	size_bytes INTEGER NOT NULL,
	pause_ms INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX snapshots_owner_created ON snapshots(owner_id, created_at, id);
CREATE INDEX snapshots_box ON snapshots(box_id);
CREATE INDEX snapshots_base ON snapshots(base_id);
CREATE INDEX snapshots_digest ON snapshots(digest);
CREATE INDEX snapshots_devbox ON snapshots(devbox_id);
CREATE TABLE snapshot_aliases (
	owner_id TEXT NOT NULL,
	name TEXT NOT NULL,
	snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (owner_id, name)
);
CREATE INDEX snapshot_aliases_snapshot ON snapshot_aliases(snapshot_id);
CREATE INDEX boxes_snapshot ON boxes(snapshot_id);
CREATE TABLE devboxes (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	box_id TEXT NOT NULL DEFAULT '',
	snapshot_id TEXT NOT NULL DEFAULT '',
	source_snapshot_id TEXT NOT NULL DEFAULT '',
	image TEXT NOT NULL,
	cpus INTEGER NOT NULL,
	memory_mib INTEGER NOT NULL,
	disk_gib INTEGER NOT NULL,
	env TEXT NOT NULL DEFAULT '{}',
	auto_stop_seconds INTEGER NOT NULL,
	auto_start INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (owner_id, name)
);
CREATE INDEX devboxes_box ON devboxes(box_id);
CREATE INDEX devboxes_snapshot ON devboxes(snapshot_id);
CREATE TABLE devbox_events (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	devbox_id TEXT NOT NULL REFERENCES devboxes(id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	type TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT '',
	box_id TEXT NOT NULL DEFAULT '',
	snapshot_id TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX devbox_events_devbox ON devbox_events(devbox_id, seq)`

// Snapshot is a snapshot's durable record.
type Snapshot struct {
	ID       string
	OwnerID  string
	BoxID    string
	ParentID string // the snapshot the box was made from, if any
	BaseID   string // the snapshot whose layers this one stacks on, if any
	DevboxID string // the devbox whose stop took it, if any
	Kind     string
	Image    string
	CPUs     int64
	// MemoryMiB and DiskGiB are the shape of the box it was taken from.
	MemoryMiB  int64
	DiskGiB    int64
	Digest     string   // of this snapshot's own layer archive
	Layers     []string // every layer the root stacks, uppermost (Digest) first
	SizeBytes  int64    // of this snapshot's own layer archive
	PauseMS    int64
	DurationMS int64
	CreatedAt  time.Time
	Aliases    []string // filled by the readers
}

const snapshotColumns = `id, owner_id, box_id, parent_id, base_id, devbox_id, kind, image, cpus, memory_mib, disk_gib,
digest, layers, size_bytes, pause_ms, duration_ms, created_at`

// CreateSnapshot stores a snapshot whose layer is already durable. A base
// snapshot deleted meanwhile is an errs.Conflict.
func (s *Store) CreateSnapshot(ctx context.Context, sn Snapshot) error {
	layers, err := json.Marshal(sn.Layers)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if sn.BaseID != "" {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM snapshots WHERE id = ?`, sn.BaseID).Scan(&one)
			if err == sql.ErrNoRows {
				return errs.New(errs.Conflict, "snapshot %s, which this one stacks on, was deleted meanwhile", sn.BaseID)
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO snapshots (`+snapshotColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sn.ID, sn.OwnerID, sn.BoxID, sn.ParentID, sn.BaseID, sn.DevboxID, sn.Kind, sn.Image, sn.CPUs, sn.MemoryMiB, sn.DiskGiB,
			sn.Digest, string(layers), sn.SizeBytes, sn.PauseMS, sn.DurationMS, nanos(sn.CreatedAt))
		return err
	})
}

func scanSnapshot(row interface{ Scan(...any) error }) (Snapshot, error) {
	var sn Snapshot
	var layers string
	var created int64
	err := row.Scan(&sn.ID, &sn.OwnerID, &sn.BoxID, &sn.ParentID, &sn.BaseID, &sn.DevboxID, &sn.Kind, &sn.Image,
		&sn.CPUs, &sn.MemoryMiB, &sn.DiskGiB, &sn.Digest, &layers, &sn.SizeBytes, &sn.PauseMS, &sn.DurationMS, &created)
	if err != nil {
		return Snapshot{}, err
	}
	if err := json.Unmarshal([]byte(layers), &sn.Layers); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: decode layers: %w", sn.ID, err)
	}
	sn.CreatedAt = fromNanos(created)
	return sn, nil
}

// Snapshot returns the snapshot with id, with its aliases, or an
// errs.NotFound.
func (s *Store) Snapshot(ctx context.Context, id string) (Snapshot, error) {
	sn, err := scanSnapshot(s.db.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE id = ?`, id))
	if err != nil {
		return Snapshot{}, notFound(err, "snapshot "+id)
	}
	err = s.loadAliases(ctx, []*Snapshot{&sn}) // apart: "return sn, s.loadAliases(...)" may read sn before the call
	return sn, err
}

func (s *Store) loadAliases(ctx context.Context, sns []*Snapshot) error {
	return related(ctx, s, `SELECT snapshot_id, name FROM snapshot_aliases WHERE snapshot_id IN (?) ORDER BY name`, sns,
		func(sn *Snapshot) string { return sn.ID }, func(sn *Snapshot, names []string) { sn.Aliases = names })
}

// SnapshotFilter selects snapshots to list, newest first.
type SnapshotFilter struct {
	OwnerID string
	Alias   string // only the snapshot this alias points at
	BoxID   string // only snapshots of this box
	Limit   int
	Cursor  string
}

// ListSnapshots returns one page of snapshots and the next page's cursor
// (empty on the last page).
func (s *Store) ListSnapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, string, error) {
	where, args := []string{"owner_id = ?"}, []any{f.OwnerID}
	if f.Alias != "" {
		where = append(where, "id IN (SELECT snapshot_id FROM snapshot_aliases WHERE owner_id = ? AND name = ?)")
		args = append(args, f.OwnerID, f.Alias)
	}
	if f.BoxID != "" {
		where, args = append(where, "box_id = ?"), append(args, f.BoxID)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "(created_at < ? OR (created_at = ? AND id < ?))"), append(args, at, at, id)
	}
	q := `SELECT ` + snapshotColumns + ` FROM snapshots WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at DESC, id DESC LIMIT ?`
	out, next, err := page(ctx, s, q, append(args, f.Limit+1), f.Limit, scanSnapshot,
		func(sn *Snapshot) (time.Time, string) { return sn.CreatedAt, sn.ID })
	if err != nil {
		return nil, "", err
	}
	return out, next, s.loadAliases(ctx, pointers(out))
}

// SnapshotDependents names what stands on a snapshot.
type SnapshotDependents struct {
	Boxes     []string `json:"boxes,omitempty"`     // live boxes made from it
	Snapshots []string `json:"snapshots,omitempty"` // snapshots stacked on it
	Aliases   []string `json:"aliases,omitempty"`   // aliases pointing at it
	Devboxes  []string `json:"devboxes,omitempty"`  // stopped devboxes kept in it
}

func (d SnapshotDependents) empty() bool {
	return len(d.Boxes)+len(d.Snapshots)+len(d.Aliases)+len(d.Devboxes) == 0
}

func (d SnapshotDependents) String() string {
	var parts []string
	add := func(what string, ids []string) {
		if len(ids) > 0 {
			parts = append(parts, what+" "+strings.Join(ids, ", "))
		}
	}
	add("boxes", d.Boxes)
	add("snapshots", d.Snapshots)
	add("aliases", d.Aliases)
	add("devboxes", d.Devboxes)
	return strings.Join(parts, "; ")
}

func dependents(ctx context.Context, tx *sql.Tx, id string) (SnapshotDependents, error) {
	var d SnapshotDependents
	for _, q := range []struct {
		dst *[]string
		sql string
	}{
		{&d.Boxes, `SELECT id FROM boxes WHERE snapshot_id = ? AND status IN ('creating', 'running', 'paused')`},
		{&d.Snapshots, `SELECT id FROM snapshots WHERE base_id = ?`},
		{&d.Aliases, `SELECT name FROM snapshot_aliases WHERE snapshot_id = ?`},
		{&d.Devboxes, `SELECT name FROM devboxes WHERE snapshot_id = ?`},
	} {
		ids, err := column(tx.QueryContext(ctx, q.sql, id))
		if err != nil {
			return d, err
		}
		sort.Strings(ids)
		*q.dst = ids
	}
	return d, nil
}

// DeleteSnapshot deletes a snapshot's record unless something stands on
// it, which is an errs.Conflict naming what does (also in its Extra
// "dependents"). It reports whether the snapshot's layer is now used by
// no record, and may be freed.
func (s *Store) DeleteSnapshot(ctx context.Context, id string) (layerFree bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var digest string
		err := tx.QueryRowContext(ctx, `SELECT digest FROM snapshots WHERE id = ?`, id).Scan(&digest)
		if err != nil {
			return notFound(err, "snapshot "+id)
		}
		d, err := dependents(ctx, tx, id)
		if err != nil {
			return err
		}
		if !d.empty() {
			e := errs.New(errs.Conflict, "snapshot %s is in use: %s; destroy or move those first", id, d)
			e.Extra = map[string]any{"dependents": d}
			return e
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE id = ?`, id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM snapshots WHERE digest = ? OR layers LIKE ?`,
			digest, `%"`+digest+`"%`).Scan(&n); err != nil {
			return err
		}
		layerFree = n == 0
		return nil
	})
	return layerFree, err
}

// SnapshotLayers returns every layer digest any snapshot stacks.
func (s *Store) SnapshotLayers(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT layers FROM snapshots`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var ls []string
		if err := json.Unmarshal([]byte(raw), &ls); err != nil {
			return nil, err
		}
		for _, l := range ls {
			out[l] = true
		}
	}
	return out, rows.Err()
}

// SnapshotBytes sums the layer bytes of an owner's snapshots (the
// max_snapshot_bytes quota's use).
func (s *Store) SnapshotBytes(ctx context.Context, ownerID string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(size_bytes), 0) FROM snapshots WHERE owner_id = ?`, ownerID).Scan(&n)
	return n, err
}

// Alias is a name an owner gave a snapshot.
type Alias struct {
	OwnerID    string
	Name       string
	SnapshotID string
	UpdatedAt  time.Time
}

// SetAlias points an owner's alias at a snapshot of theirs, creating it
// or moving it in one step. It returns the snapshot it pointed at before
// ("" if it is new). A snapshot not the owner's is an errs.NotFound.
func (s *Store) SetAlias(ctx context.Context, a Alias) (prev string, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT owner_id FROM snapshots WHERE id = ?`, a.SnapshotID).Scan(&owner)
		if err != nil || owner != a.OwnerID {
			return errs.New(errs.NotFound, "snapshot %s not found", a.SnapshotID)
		}
		err = tx.QueryRowContext(ctx, `SELECT snapshot_id FROM snapshot_aliases WHERE owner_id = ? AND name = ?`, a.OwnerID, a.Name).Scan(&prev)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO snapshot_aliases (owner_id, name, snapshot_id, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (owner_id, name) DO UPDATE SET snapshot_id = excluded.snapshot_id, updated_at = excluded.updated_at`,
			a.OwnerID, a.Name, a.SnapshotID, nanos(a.UpdatedAt))
		return err
	})
	return prev, err
}

// DeleteAlias removes an owner's alias if it points at snapshotID; an
// alias that does not is an errs.NotFound.
func (s *Store) DeleteAlias(ctx context.Context, ownerID, name, snapshotID string) error {
	return s.execOne(ctx, errs.New(errs.NotFound, "alias %q does not point at snapshot %s", name, snapshotID),
		`DELETE FROM snapshot_aliases WHERE owner_id = ? AND name = ? AND snapshot_id = ?`, ownerID, name, snapshotID)
}

// GetAlias returns an owner's alias, or an errs.NotFound.
func (s *Store) GetAlias(ctx context.Context, ownerID, name string) (Alias, error) {
	a := Alias{OwnerID: ownerID, Name: name}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT snapshot_id, updated_at FROM snapshot_aliases WHERE owner_id = ? AND name = ?`, ownerID, name).
		Scan(&a.SnapshotID, &at)
	if err != nil {
		return Alias{}, notFound(err, fmt.Sprintf("snapshot alias %q", name))
	}
	a.UpdatedAt = fromNanos(at)
	return a, nil
}

// ListAliases returns an owner's aliases by name.
func (s *Store) ListAliases(ctx context.Context, ownerID string) ([]Alias, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, snapshot_id, updated_at FROM snapshot_aliases WHERE owner_id = ? ORDER BY name`, ownerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alias
	for rows.Next() {
		a := Alias{OwnerID: ownerID}
		var at int64
		if err := rows.Scan(&a.Name, &a.SnapshotID, &at); err != nil {
			return nil, err
		}
		a.UpdatedAt = fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// LayerUsed reports whether any snapshot stacks the layer digest.
func (s *Store) LayerUsed(ctx context.Context, digest string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM snapshots WHERE layers LIKE ?`, `%"`+digest+`"%`).Scan(&n)
	return n > 0, err
}
