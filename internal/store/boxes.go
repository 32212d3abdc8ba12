package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// Box is a box's durable record.
type Box struct {
	ID         string
	OwnerID    string
	Name       string
	Kind       string
	Image      string
	SnapshotID string
	CPUs       int64
	MemoryMiB  int64
	DiskGiB    int64
	Env        map[string]string
	Tags       []string
	AccessType string
	TTLSeconds int64
	Status     string
	Reason     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	EndedAt    *time.Time
	ExpiresAt  *time.Time
}

// Idempotency ties a client's Idempotency-Key to the box it created.
type Idempotency struct {
	PrincipalID string
	Key         string
	RequestHash string
	BoxID       string
}

const boxColumns = `id, owner_id, name, kind, image, snapshot_id, cpus, memory_mib, disk_gib, env,
access_type, ttl_seconds, status, reason, created_at, updated_at, started_at, ended_at, expires_at`

// CreateBox stores a new box, its tags, its "created" event (and a
// "running" one for a box stored as running) and (when idem is not nil)
// its idempotency key, all at once. A live box of the same
// owner with the same non-empty name is an errs.Conflict; an idempotency
// key already taken is an errs.Busy (another create holds it); a
// SnapshotID whose snapshot no longer exists is an errs.NotFound.
func (s *Store) CreateBox(ctx context.Context, b Box, idem *Idempotency) error {
	env, err := json.Marshal(b.Env)
	if err != nil {
		return err
	}
	defer s.notify()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if idem != nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (principal_id, key, request_hash, box_id, created_at) VALUES (?, ?, ?, ?, ?)`,
				idem.PrincipalID, idem.Key, idem.RequestHash, b.ID, nanos(b.CreatedAt))
			if isUnique(err) {
				return errs.BusyFor(time.Second, "a create with this Idempotency-Key is in progress")
			}
			if err != nil {
				return err
			}
		}
		if b.SnapshotID != "" {
			// The box will stand on the snapshot: it must still exist.
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM snapshots WHERE id = ?`, b.SnapshotID).Scan(&one); err != nil {
				return notFound(err, "snapshot "+b.SnapshotID)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO boxes (`+boxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.OwnerID, b.Name, b.Kind, b.Image, b.SnapshotID, b.CPUs, b.MemoryMiB, b.DiskGiB, string(env),
			b.AccessType, b.TTLSeconds, b.Status, b.Reason, nanos(b.CreatedAt), nanos(b.UpdatedAt),
			nullNanos(b.StartedAt), nullNanos(b.EndedAt), nullNanos(b.ExpiresAt))
		if isUnique(err) {
			return errs.New(errs.Conflict, "a box named %q already exists; names are unique among your live boxes", b.Name)
		}
		if err != nil {
			return err
		}
		if err := insertTags(ctx, tx, b.ID, b.Tags); err != nil {
			return err
		}
		if b.Status != "running" {
			return insertEvent(ctx, tx, Event{BoxID: b.ID, At: b.CreatedAt, Type: "created", Status: b.Status})
		}
		// A box that runs from the start (a warm box taken by a create)
		// has the history of one that started.
		if err := insertEvent(ctx, tx, Event{BoxID: b.ID, At: b.CreatedAt, Type: "created", Status: "creating"}); err != nil {
			return err
		}
		return insertEvent(ctx, tx, Event{BoxID: b.ID, At: b.CreatedAt, Type: "running", Status: "running"})
	})
}

func insertTags(ctx context.Context, tx *sql.Tx, id string, tags []string) error {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO box_tags (box_id, tag) VALUES (?, ?)`, id, t); err != nil {
			return err
		}
	}
	return nil
}

// Idempotent returns the idempotency record for key, or errs.NotFound.
func (s *Store) Idempotent(ctx context.Context, principalID, key string) (Idempotency, error) {
	var i Idempotency
	err := s.db.QueryRowContext(ctx, `SELECT principal_id, key, request_hash, box_id FROM idempotency_keys WHERE principal_id = ? AND key = ?`,
		principalID, key).Scan(&i.PrincipalID, &i.Key, &i.RequestHash, &i.BoxID)
	return i, notFound(err, "idempotency key")
}

// Box returns the box with id, or errs.NotFound.
func (s *Store) Box(ctx context.Context, id string) (Box, error) {
	row := s.queryRow(ctx, `SELECT `+boxColumns+` FROM boxes WHERE id = ?`, id)
	b, err := scanBox(row)
	if err != nil {
		return Box{}, notFound(err, "box "+id)
	}
	err = s.loadTags(ctx, []*Box{&b}) // apart: "return b, s.loadTags(...)" may read b before the call
	return b, err
}

func scanBox(row interface{ Scan(...any) error }) (Box, error) {
	var b Box
	var env string
	var created, updated int64
	var started, ended, expires sql.NullInt64
	err := row.Scan(&b.ID, &b.OwnerID, &b.Name, &b.Kind, &b.Image, &b.SnapshotID, &b.CPUs, &b.MemoryMiB, &b.DiskGiB, &env,
		&b.AccessType, &b.TTLSeconds, &b.Status, &b.Reason, &created, &updated, &started, &ended, &expires)
	if err != nil {
		return Box{}, err
	}
	if err := json.Unmarshal([]byte(env), &b.Env); err != nil {
		return Box{}, fmt.Errorf("box %s: decode env: %w", b.ID, err)
	}
	b.CreatedAt, b.UpdatedAt = fromNanos(created), fromNanos(updated)
	b.StartedAt, b.EndedAt, b.ExpiresAt = fromNull(started), fromNull(ended), fromNull(expires)
	return b, nil
}

func (s *Store) loadTags(ctx context.Context, boxes []*Box) error {
	return related(ctx, s, `SELECT box_id, tag FROM box_tags WHERE box_id IN (?) ORDER BY tag`, boxes,
		func(b *Box) string { return b.ID }, func(b *Box, tags []string) { b.Tags = tags })
}

// BoxFilter selects boxes to list. Boxes come newest first.
type BoxFilter struct {
	OwnerID string // empty: every owner
	Status  []string
	Tags    []string // every tag must be present
	Limit   int
	Cursor  string
}

// ListBoxes returns one page of boxes and the cursor of the next page
// (empty on the last page). A malformed cursor is an errs.Invalid.
func (s *Store) ListBoxes(ctx context.Context, f BoxFilter) ([]Box, string, error) {
	var where []string
	var args []any
	if f.OwnerID != "" {
		where, args = append(where, "owner_id = ?"), append(args, f.OwnerID)
	}
	if len(f.Status) > 0 {
		where = append(where, "status IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Status)), ", ")+")")
		for _, st := range f.Status {
			args = append(args, st)
		}
	}
	for _, t := range f.Tags {
		where, args = append(where, "EXISTS (SELECT 1 FROM box_tags t WHERE t.box_id = boxes.id AND t.tag = ?)"), append(args, t)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "(created_at < ? OR (created_at = ? AND id < ?))"), append(args, at, at, id)
	}
	q := `SELECT ` + boxColumns + ` FROM boxes`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	out, next, err := page(ctx, s, q, append(args, f.Limit+1), f.Limit, scanBox,
		func(b *Box) (time.Time, string) { return b.CreatedAt, b.ID })
	if err != nil {
		return nil, "", err
	}
	return out, next, s.loadTags(ctx, pointers(out))
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	bad := errs.New(errs.Invalid, "cursor %q is not one this server made; pass next_cursor from a previous page", c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return 0, "", bad
	}
	return n, id, nil
}

// LiveBoxes returns every box whose status is creating, running or paused.
func (s *Store) LiveBoxes(ctx context.Context) ([]Box, error) {
	boxes, _, err := s.ListBoxes(ctx, BoxFilter{Status: []string{"creating", "running", "paused"}, Limit: 1 << 30})
	return boxes, err
}

// SetStatus moves a box to status (with reason) and records an event of
// type typ. Leaving the live statuses stamps ended_at; entering running
// for the first time stamps started_at.
func (s *Store) SetStatus(ctx context.Context, id, status, reason, typ, detail string, at time.Time) error {
	defer s.notify()
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE boxes SET status = ?, reason = ?, updated_at = ?,
	started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
	ended_at = CASE WHEN ? IN ('stopped', 'failed') AND ended_at IS NULL THEN ? ELSE ended_at END
WHERE id = ?`, status, reason, nanos(at), status, nanos(at), status, nanos(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "box %s not found", id)
		}
		return insertEvent(ctx, tx, Event{BoxID: id, At: at, Type: typ, Status: status, Reason: reason, Detail: detail})
	})
}

// BoxUpdate changes a box's mutable fields; nil fields stay as they are.
type BoxUpdate struct {
	Name       *string
	Tags       *[]string
	TTLSeconds *int64
	ExpiresAt  *time.Time
}

// UpdateBox applies u. A name clash is an errs.Conflict.
func (s *Store) UpdateBox(ctx context.Context, id string, u BoxUpdate, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		sets, args := []string{"updated_at = ?"}, []any{nanos(at)}
		if u.Name != nil {
			sets, args = append(sets, "name = ?"), append(args, *u.Name)
		}
		if u.TTLSeconds != nil {
			sets, args = append(sets, "ttl_seconds = ?"), append(args, *u.TTLSeconds)
		}
		if u.ExpiresAt != nil {
			sets, args = append(sets, "expires_at = ?"), append(args, nullNanos(u.ExpiresAt))
		}
		_, err := tx.ExecContext(ctx, `UPDATE boxes SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, id)...)
		if isUnique(err) {
			return errs.New(errs.Conflict, "a box named %q already exists; names are unique among your live boxes", *u.Name)
		}
		if err != nil || u.Tags == nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM box_tags WHERE box_id = ?`, id); err != nil {
			return err
		}
		return insertTags(ctx, tx, id, *u.Tags)
	})
}

// SetExpiry moves a box's idle deadline.
func (s *Store) SetExpiry(ctx context.Context, id string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE boxes SET expires_at = ? WHERE id = ?`, nanos(expires), id)
	return err
}

// OwnerUsage sums what an owner's live boxes hold.
func (s *Store) OwnerUsage(ctx context.Context, ownerID string) (boxes, cpus, memoryMiB int64, err error) {
	err = s.queryRow(ctx, `SELECT count(*), coalesce(sum(cpus), 0), coalesce(sum(memory_mib), 0)
FROM boxes WHERE owner_id = ? AND status IN ('creating', 'running', 'paused')`, ownerID).Scan(&boxes, &cpus, &memoryMiB)
	return boxes, cpus, memoryMiB, err
}

// CountByStatus counts every box by status.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM boxes GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// LiveBoxID returns the id of the owner's live box with name, or
// errs.NotFound.
func (s *Store) LiveBoxID(ctx context.Context, ownerID, name string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM boxes WHERE owner_id = ? AND name = ?
AND status IN ('creating', 'running', 'paused')`, ownerID, name).Scan(&id)
	return id, notFound(err, "box "+name)
}
