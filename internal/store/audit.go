package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// AuditEntry records one call that changed something: who (principal and
// the auth path and subject it came by), what (method and route pattern),
// on what (box, snapshot or other target), and how it ended. Request
// bodies and secrets are never recorded.
type AuditEntry struct {
	Seq         int64
	At          time.Time
	PrincipalID string
	AuthPath    string
	Subject     string
	Method      string
	Route       string
	BoxID       string
	SnapshotID  string
	TargetID    string
	Status      int
	RequestID   string
}

// AppendAudit stores entries in one transaction.
func (s *Store) AppendAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log
(at, principal_id, auth_path, subject, method, route, box_id, snapshot_id, target_id, status, request_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			if _, err := stmt.ExecContext(ctx, nanos(e.At), e.PrincipalID, e.AuthPath, e.Subject, e.Method, e.Route,
				e.BoxID, e.SnapshotID, e.TargetID, e.Status, e.RequestID); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditFilter selects audit entries; zero members select everything.
type AuditFilter struct {
	PrincipalID string
	BoxID       string
	SnapshotID  string
	Since       time.Time // entries at or after
	After       int64     // entries with a greater seq (the paging cursor)
	Limit       int
}

// Audit returns entries matching f, oldest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where := []string{"seq > ?"}
	args := []any{f.After}
	for _, c := range []struct {
		col, v string
	}{{"principal_id", f.PrincipalID}, {"box_id", f.BoxID}, {"snapshot_id", f.SnapshotID}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, nanos(f.Since))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, principal_id, auth_path, subject, method, route, box_id, snapshot_id, target_id, status, request_id
FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.PrincipalID, &e.AuthPath, &e.Subject, &e.Method, &e.Route,
			&e.BoxID, &e.SnapshotID, &e.TargetID, &e.Status, &e.RequestID); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneAudit deletes entries older than before and says how many went.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE at < ?`, nanos(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
