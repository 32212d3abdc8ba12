package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// ListPrincipals returns every principal, oldest first.
func (s *Store) ListPrincipals(ctx context.Context) ([]Principal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, kind, admin, created_at FROM principals ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Tokens lists a principal's API tokens (hashes included, secrets never
// stored), oldest first.
func (s *Store) Tokens(ctx context.Context, principalID string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, principal_id, hash, name, created_at, expires_at, last_used_at, revoked_at
FROM tokens WHERE principal_id = ? ORDER BY created_at, id`, principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created int64
		var exp, used, rev sql.NullInt64
		if err := rows.Scan(&t.ID, &t.PrincipalID, &t.Hash, &t.Name, &created, &exp, &used, &rev); err != nil {
			return nil, err
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNanos(created), fromNull(exp), fromNull(used), fromNull(rev)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a principal's token at at; it is refused from the
// next call on. Revoking a revoked token is harmless (the first time
// stays); a token the principal does not hold is an errs.NotFound.
func (s *Store) RevokeToken(ctx context.Context, principalID, id string, at time.Time) error {
	return s.execOne(ctx, errs.New(errs.NotFound, "token %s not found", id),
		`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND principal_id = ?`, nanos(at), id, principalID)
}
