package store

import (
	"context"
	"database/sql"
)

// QuotaOverrides are a principal's own limits; a nil member follows the
// server's default.
type QuotaOverrides struct {
	MaxBoxes         *int64
	MaxCPUs          *int64
	MaxMemoryMiB     *int64
	MaxSnapshotBytes *int64
}

// Empty reports whether no member is overridden.
func (q QuotaOverrides) Empty() bool {
	return q.MaxBoxes == nil && q.MaxCPUs == nil && q.MaxMemoryMiB == nil && q.MaxSnapshotBytes == nil
}

// QuotaOverrides returns a principal's overrides; a principal without any
// has the zero value.
func (s *Store) QuotaOverrides(ctx context.Context, principalID string) (QuotaOverrides, error) {
	var q QuotaOverrides
	var boxes, cpus, mem, snap sql.NullInt64
	err := s.queryRow(ctx, `SELECT max_boxes, max_cpus, max_memory_mib, max_snapshot_bytes
FROM principal_quotas WHERE principal_id = ?`, principalID).Scan(&boxes, &cpus, &mem, &snap)
	if err == sql.ErrNoRows {
		return q, nil
	}
	if err != nil {
		return q, err
	}
	q.MaxBoxes, q.MaxCPUs, q.MaxMemoryMiB, q.MaxSnapshotBytes = ptr(boxes), ptr(cpus), ptr(mem), ptr(snap)
	return q, nil
}

// SetQuotaOverrides replaces a principal's overrides with q (all nil
// clears them).
func (s *Store) SetQuotaOverrides(ctx context.Context, principalID string, q QuotaOverrides) error {
	if q.Empty() {
		_, err := s.db.ExecContext(ctx, `DELETE FROM principal_quotas WHERE principal_id = ?`, principalID)
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO principal_quotas (principal_id, max_boxes, max_cpus, max_memory_mib, max_snapshot_bytes)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (principal_id) DO UPDATE SET max_boxes = excluded.max_boxes, max_cpus = excluded.max_cpus,
	max_memory_mib = excluded.max_memory_mib, max_snapshot_bytes = excluded.max_snapshot_bytes`,
		principalID, null(q.MaxBoxes), null(q.MaxCPUs), null(q.MaxMemoryMiB), null(q.MaxSnapshotBytes))
	return err
}

func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func null(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}
