package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// Devbox is a devbox's durable record. While it runs, BoxID is its box;
// SnapshotID is the snapshot that holds its disk as last stopped (empty
// before its first stop).
type Devbox struct {
	ID               string
	OwnerID          string
	Name             string
	Status           string // running, stopped or failed
	BoxID            string
	SnapshotID       string
	SourceSnapshotID string // what it was first made from, if a snapshot
	Image            string
	CPUs             int64
	MemoryMiB        int64
	DiskGiB          int64
	Env              map[string]string
	AutoStopSeconds  int64
	AutoStart        bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// DevboxEvent is one entry of a devbox's history.
type DevboxEvent struct {
	Seq        int64
	DevboxID   string
	At         time.Time
	Type       string // created, started, stopped, auto_stopped, auto_started, box_lost, failed
	Status     string // the devbox's status after the event
	BoxID      string
	SnapshotID string
	Detail     string
}

const devboxColumns = `id, owner_id, name, status, box_id, snapshot_id, source_snapshot_id, image, cpus, memory_mib, disk_gib,
env, auto_stop_seconds, auto_start, created_at, updated_at`

// CreateDevbox stores a new devbox and its "created" event. A devbox of
// the same owner and name is an errs.Conflict.
func (s *Store) CreateDevbox(ctx context.Context, d Devbox) error {
	env, err := json.Marshal(d.Env)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO devboxes (`+devboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.OwnerID, d.Name, d.Status, d.BoxID, d.SnapshotID, d.SourceSnapshotID, d.Image, d.CPUs, d.MemoryMiB, d.DiskGiB,
			string(env), d.AutoStopSeconds, d.AutoStart, nanos(d.CreatedAt), nanos(d.UpdatedAt))
		if isUnique(err) {
			return errs.New(errs.Conflict, "a devbox named %q already exists; devbox names are unique per principal", d.Name)
		}
		if err != nil {
			return err
		}
		return insertDevboxEvent(ctx, tx, DevboxEvent{DevboxID: d.ID, At: d.CreatedAt, Type: "created", Status: d.Status})
	})
}

func insertDevboxEvent(ctx context.Context, tx *sql.Tx, e DevboxEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO devbox_events (devbox_id, at, type, status, box_id, snapshot_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.DevboxID, nanos(e.At), e.Type, e.Status, e.BoxID, e.SnapshotID, e.Detail)
	return err
}

func scanDevbox(row interface{ Scan(...any) error }) (Devbox, error) {
	var d Devbox
	var env string
	var created, updated int64
	err := row.Scan(&d.ID, &d.OwnerID, &d.Name, &d.Status, &d.BoxID, &d.SnapshotID, &d.SourceSnapshotID, &d.Image,
		&d.CPUs, &d.MemoryMiB, &d.DiskGiB, &env, &d.AutoStopSeconds, &d.AutoStart, &created, &updated)
	if err != nil {
		return Devbox{}, err
	}
	if err := json.Unmarshal([]byte(env), &d.Env); err != nil {
		return Devbox{}, fmt.Errorf("devbox %s: decode env: %w", d.ID, err)
	}
	d.CreatedAt, d.UpdatedAt = fromNanos(created), fromNanos(updated)
	return d, nil
}

// Devbox returns the devbox with id, or an errs.NotFound.
func (s *Store) Devbox(ctx context.Context, id string) (Devbox, error) {
	d, err := scanDevbox(s.db.QueryRowContext(ctx, `SELECT `+devboxColumns+` FROM devboxes WHERE id = ?`, id))
	return d, notFound(err, "devbox "+id)
}

// DevboxByName returns an owner's devbox by name, or an errs.NotFound.
func (s *Store) DevboxByName(ctx context.Context, ownerID, name string) (Devbox, error) {
	d, err := scanDevbox(s.db.QueryRowContext(ctx, `SELECT `+devboxColumns+` FROM devboxes WHERE owner_id = ? AND name = ?`, ownerID, name))
	return d, notFound(err, fmt.Sprintf("devbox %q", name))
}

// DevboxByBox returns the devbox a box runs for, or an errs.NotFound.
func (s *Store) DevboxByBox(ctx context.Context, boxID string) (Devbox, error) {
	d, err := scanDevbox(s.db.QueryRowContext(ctx, `SELECT `+devboxColumns+` FROM devboxes WHERE box_id = ?`, boxID))
	return d, notFound(err, "devbox of box "+boxID)
}

// ListDevboxes returns one page of an owner's devboxes, newest first, and
// the next page's cursor (empty on the last page). Empty ownerID lists
// every owner's.
func (s *Store) ListDevboxes(ctx context.Context, ownerID string, limit int, cursor string) ([]Devbox, string, error) {
	q, args := `SELECT `+devboxColumns+` FROM devboxes WHERE (? = '' OR owner_id = ?)`, []any{ownerID, ownerID}
	if cursor != "" {
		at, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q, args = q+" AND (created_at < ? OR (created_at = ? AND id < ?))", append(args, at, at, id)
	}
	return page(ctx, s, q+" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, limit+1), limit, scanDevbox,
		func(d *Devbox) (time.Time, string) { return d.CreatedAt, d.ID })
}

// DevboxState is a change of a devbox's state; nil fields stay as they
// are.
type DevboxState struct {
	Status     *string
	BoxID      *string
	SnapshotID *string
	// AutoStopSeconds and AutoStart change the devbox's settings.
	AutoStopSeconds *int64
	AutoStart       *bool
}

// UpdateDevbox applies st and records ev (when its Type is set), at once.
func (s *Store) UpdateDevbox(ctx context.Context, id string, st DevboxState, ev DevboxEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devboxes SET
	status = coalesce(?, status), box_id = coalesce(?, box_id), snapshot_id = coalesce(?, snapshot_id),
	auto_stop_seconds = coalesce(?, auto_stop_seconds), auto_start = coalesce(?, auto_start), updated_at = ?
WHERE id = ?`, st.Status, st.BoxID, st.SnapshotID, st.AutoStopSeconds, st.AutoStart, nanos(ev.At), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "devbox %s not found", id)
		}
		if ev.Type == "" {
			return nil
		}
		ev.DevboxID = id
		return insertDevboxEvent(ctx, tx, ev)
	})
}

// DeleteDevbox deletes a devbox's record and its history.
func (s *Store) DeleteDevbox(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM devboxes WHERE id = ?`, id)
	return err
}

// DevboxEvents returns a devbox's history after seq after, oldest first.
func (s *Store) DevboxEvents(ctx context.Context, id string, after int64, limit int) ([]DevboxEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, devbox_id, at, type, status, box_id, snapshot_id, detail FROM devbox_events
WHERE devbox_id = ? AND seq > ? ORDER BY seq LIMIT ?`, id, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DevboxEvent
	for rows.Next() {
		var e DevboxEvent
		var at int64
		if err := rows.Scan(&e.Seq, &e.DevboxID, &at, &e.Type, &e.Status, &e.BoxID, &e.SnapshotID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DevboxSnapshots lists the ids of the snapshots a devbox's stops took,
// newest first.
func (s *Store) DevboxSnapshots(ctx context.Context, devboxID string) ([]string, error) {
	return column(s.db.QueryContext(ctx, `SELECT id FROM snapshots WHERE devbox_id = ? ORDER BY created_at DESC, id DESC`, devboxID))
}

// DisownSnapshots clears the devbox mark of a devbox's snapshots, which
// then stay as the owner's plain snapshots.
func (s *Store) DisownSnapshots(ctx context.Context, devboxID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE snapshots SET devbox_id = '' WHERE devbox_id = ?`, devboxID)
	return err
}
