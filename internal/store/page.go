package store

import (
	"context"
	"time"
)

// page runs a newest-first query whose last argument is the page size plus
// one, scans its rows, and returns at most limit of them with the cursor
// of the next page ("" on the last page). key gives a row's position.
func page[T any](ctx context.Context, s *Store, q string, args []any, limit int,
	scan func(interface{ Scan(...any) error }) (T, error), key func(*T) (time.Time, string)) ([]T, string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			_ = rows.Close()
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Close(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		at, id := key(&out[len(out)-1])
		next = encodeCursor(nanos(at), id)
	}
	return out, next, nil
}

// pointers returns pointers to the elements of s.
func pointers[T any](s []T) []*T {
	ptrs := make([]*T, len(s))
	for i := range s {
		ptrs[i] = &s[i]
	}
	return ptrs
}
