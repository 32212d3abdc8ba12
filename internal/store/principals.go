package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// Principal is who owns boxes and holds tokens.
type Principal struct {
	ID        string
	Name      string
	Kind      string // "user" or "service"
	Admin     bool
	CreatedAt time.Time
}

// Token is an API token's record; the secret itself is never stored, only
// its hash.
type Token struct {
	ID          string
	PrincipalID string
	Hash        string
	Name        string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

// CreatePrincipal stores p; a name already taken is an errs.Conflict.
func (s *Store) CreatePrincipal(ctx context.Context, p Principal) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO principals (id, name, kind, admin, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Kind, p.Admin, nanos(p.CreatedAt))
	if isUnique(err) {
		return errs.New(errs.Conflict, "a principal named %q already exists", p.Name)
	}
	return err
}

// Principal returns the principal with id, or errs.NotFound.
func (s *Store) Principal(ctx context.Context, id string) (Principal, error) {
	row := s.db.QueryRowContext(ctx,
		`SELECT id, name, kind, admin, created_at FROM principals WHERE id = ?`, id)
	p, err := scanPrincipal(row)
	return p, notFound(err, "principal "+id)
}

// CountPrincipals counts every principal.
func (s *Store) CountPrincipals(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM principals`).Scan(&n)
	return n, err
}

func scanPrincipal(row interface{ Scan(...any) error }) (Principal, error) {
	var p Principal
	var created int64
	err := row.Scan(&p.ID, &p.Name, &p.Kind, &p.Admin, &created)
	p.CreatedAt = fromNanos(created)
	return p, err
}

// CreateToken stores t.
func (s *Store) CreateToken(ctx context.Context, t Token) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO tokens (id, principal_id, hash, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.PrincipalID, t.Hash, t.Name, nanos(t.CreatedAt), nullNanos(t.ExpiresAt))
	return err
}

// TokenByHash finds a token and its principal by the token's hash, or
// errs.NotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, Principal, error) {
	row := s.db.QueryRowContext(ctx, `
SELECT t.id, t.principal_id, t.hash, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
       p.id, p.name, p.kind, p.admin, p.created_at
FROM tokens t JOIN principals p ON p.id = t.principal_id WHERE t.hash = ?`, hash)
	var t Token
	var p Principal
	var created, pcreated int64
	var exp, used, rev sql.NullInt64
	err := row.Scan(&t.ID, &t.PrincipalID, &t.Hash, &t.Name, &created, &exp, &used, &rev,
		&p.ID, &p.Name, &p.Kind, &p.Admin, &pcreated)
	if err != nil {
		return Token{}, Principal{}, notFound(err, "token")
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNanos(created), fromNull(exp), fromNull(used), fromNull(rev)
	p.CreatedAt = fromNanos(pcreated)
	return t, p, nil
}

// TouchToken records that the token was used at when.
func (s *Store) TouchToken(ctx context.Context, id string, when time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, nanos(when), id)
	return err
}
