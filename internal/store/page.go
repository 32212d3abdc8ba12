package store

import (
	"context"
	"database/sql"
	"strings"
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
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
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

// column returns the values of a one-column query's rows, closing them:
// column(s.query(...)).
func column(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// execOne runs a statement meant to touch one row; touching none is
// missing (an errs.NotFound).
func (s *Store) execOne(ctx context.Context, missing error, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return missing
	}
	return nil
}

// related fills a one-to-many column (a box's tags, a snapshot's aliases)
// of many rows with one query. q selects (parent id, value) pairs ordered
// by value, for the parent ids bound to its "IN (?)"; set receives each
// row's values, an empty slice when it has none.
func related[T any](ctx context.Context, s *Store, q string, items []*T, id func(*T) string, set func(*T, []string)) error {
	if len(items) == 0 {
		return nil
	}
	args := make([]any, len(items))
	for i, it := range items {
		args[i] = id(it)
	}
	var rows *sql.Rows
	var err error
	if len(items) == 1 {
		rows, err = s.query(ctx, q, args...) // the one-row read is hot: prepared once
	} else {
		q = strings.Replace(q, "IN (?)", "IN (?"+strings.Repeat(", ?", len(items)-1)+")", 1)
		rows, err = s.db.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	values := make(map[string][]string, len(items))
	for rows.Next() {
		var parent, v string
		if err := rows.Scan(&parent, &v); err != nil {
			return err
		}
		values[parent] = append(values[parent], v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, it := range items {
		vs := values[id(it)]
		if vs == nil {
			vs = []string{}
		}
		set(it, vs)
	}
	return nil
}
