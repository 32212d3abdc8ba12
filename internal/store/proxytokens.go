package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// ProxyToken is a preview link's credential: it opens one port of one box
// until it expires or is revoked. Only the secret's hash is stored.
type ProxyToken struct {
	ID        string
	BoxID     string
	OwnerID   string
	Port      int
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

const proxyTokenColumns = `id, box_id, owner_id, port, hash, created_at, expires_at, revoked_at`

// CreateProxyToken stores t.
func (s *Store) CreateProxyToken(ctx context.Context, t ProxyToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO proxy_tokens (`+proxyTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.BoxID, t.OwnerID, t.Port, t.Hash, nanos(t.CreatedAt), nanos(t.ExpiresAt), nullNanos(t.RevokedAt))
	return err
}

// ProxyTokenByHash finds a preview token by its secret's hash, or
// errs.NotFound.
func (s *Store) ProxyTokenByHash(ctx context.Context, hash string) (ProxyToken, error) {
	t, err := scanProxyToken(s.db.QueryRowContext(ctx, `SELECT `+proxyTokenColumns+` FROM proxy_tokens WHERE hash = ?`, hash))
	return t, notFound(err, "preview token")
}

// ProxyTokens lists a box's preview tokens, newest first.
func (s *Store) ProxyTokens(ctx context.Context, boxID string) ([]ProxyToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+proxyTokenColumns+` FROM proxy_tokens WHERE box_id = ? ORDER BY created_at DESC, id DESC`, boxID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ProxyToken
	for rows.Next() {
		t, err := scanProxyToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeProxyToken revokes a box's preview token; revoking twice is
// harmless. An unknown id is an errs.NotFound.
func (s *Store) RevokeProxyToken(ctx context.Context, boxID, id string, at time.Time) error {
	return s.execOne(ctx, errs.New(errs.NotFound, "preview token %s not found on box %s", id, boxID),
		`UPDATE proxy_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE box_id = ? AND id = ?`, nanos(at), boxID, id)
}

func scanProxyToken(row interface{ Scan(...any) error }) (ProxyToken, error) {
	var t ProxyToken
	var created, expires int64
	var revoked sql.NullInt64
	err := row.Scan(&t.ID, &t.BoxID, &t.OwnerID, &t.Port, &t.Hash, &created, &expires, &revoked)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromNanos(created), fromNanos(expires), fromNull(revoked)
	return t, err
}
