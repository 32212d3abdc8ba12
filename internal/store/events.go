package store

import (
	"context"
	"database/sql"
	"time"
)

// Event is one entry of a box's lifecycle history.
type Event struct {
	Seq    int64
	BoxID  string
	At     time.Time
	Type   string // created, running, paused, resumed, oom, ttl_expired, destroyed, ...
	Status string // the box's status after the event
	Reason string
	Detail string
}

func insertEvent(ctx context.Context, tx *sql.Tx, e Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO box_events (box_id, at, type, status, reason, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.BoxID, nanos(e.At), e.Type, e.Status, e.Reason, e.Detail)
	return err
}

// AddEvent records an event that changes no status.
func (s *Store) AddEvent(ctx context.Context, e Event) error {
	defer s.notify()
	return s.tx(ctx, func(tx *sql.Tx) error { return insertEvent(ctx, tx, e) })
}

// Events returns a box's events with seq greater than after, oldest first.
func (s *Store) Events(ctx context.Context, boxID string, after int64, limit int) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, box_id, at, type, status, reason, detail FROM box_events
WHERE box_id = ? AND seq > ? ORDER BY seq LIMIT ?`, boxID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Seq, &e.BoxID, &at, &e.Type, &e.Status, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
