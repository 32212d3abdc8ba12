package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// TrustMapping says which external identities (Kubernetes service
// accounts, GitHub Actions jobs, tailnet logins) act as which principal.
// Match maps a claim name to an exact value or a glob.
type TrustMapping struct {
	ID     string
	Kind   string // k8s_sa, github or tailscale
	Issuer string // OIDC issuer URL; empty for tailscale
	Match  map[string]string
	// PrincipalID is the principal the identity acts as. It is empty when
	// Provision is set: then each identity gets a principal of its own.
	PrincipalID string
	Provision   bool
	CreatedAt   time.Time
}

const trustColumns = `id, kind, issuer, match, coalesce(principal_id, ''), provision, created_at`

// CreateTrustMapping stores m. An issuer serves one kind of identity, so a
// mapping whose issuer already has mappings of another kind is an
// errs.Conflict; a principal that does not exist is an errs.Invalid.
func (s *Store) CreateTrustMapping(ctx context.Context, m TrustMapping) error {
	match, err := json.Marshal(m.Match)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if m.Issuer != "" {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT kind FROM trust_mappings WHERE issuer = ? AND kind <> ? LIMIT 1`, m.Issuer, m.Kind).Scan(&other)
			if err == nil {
				return errs.New(errs.Conflict, "issuer %s already has %s trust mappings; one issuer serves one kind of identity", m.Issuer, other)
			}
			if err != sql.ErrNoRows {
				return err
			}
		}
		var pid any
		if m.PrincipalID != "" {
			pid = m.PrincipalID
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM principals WHERE id = ?`, m.PrincipalID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.New(errs.Invalid, "principal_id %s does not exist", m.PrincipalID)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO trust_mappings (id, kind, issuer, match, principal_id, provision, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.Kind, m.Issuer, string(match), pid, m.Provision, nanos(m.CreatedAt))
		return err
	})
}

// TrustMapping returns the mapping with id, or errs.NotFound.
func (s *Store) TrustMapping(ctx context.Context, id string) (TrustMapping, error) {
	ms, err := s.trustMappings(ctx, `WHERE id = ?`, id)
	if err != nil {
		return TrustMapping{}, err
	}
	if len(ms) == 0 {
		return TrustMapping{}, errs.New(errs.NotFound, "trust mapping %s not found", id)
	}
	return ms[0], nil
}

// TrustMappings lists every mapping, oldest first.
func (s *Store) TrustMappings(ctx context.Context) ([]TrustMapping, error) {
	return s.trustMappings(ctx, "")
}

// TrustMappingsFor lists the mappings of one kind and issuer (issuer is
// empty for tailscale), oldest first. No mapping means the issuer is not
// trusted.
func (s *Store) TrustMappingsFor(ctx context.Context, kind, issuer string) ([]TrustMapping, error) {
	return s.trustMappings(ctx, `WHERE kind = ? AND issuer = ?`, kind, issuer)
}

// TrustMappingsForIssuer lists the mappings naming issuer, of any kind.
func (s *Store) TrustMappingsForIssuer(ctx context.Context, issuer string) ([]TrustMapping, error) {
	return s.trustMappings(ctx, `WHERE issuer = ?`, issuer)
}

func (s *Store) trustMappings(ctx context.Context, where string, args ...any) ([]TrustMapping, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+trustColumns+` FROM trust_mappings `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TrustMapping
	for rows.Next() {
		var m TrustMapping
		var match string
		var created int64
		if err := rows.Scan(&m.ID, &m.Kind, &m.Issuer, &match, &m.PrincipalID, &m.Provision, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(match), &m.Match); err != nil {
			return nil, fmt.Errorf("trust mapping %s: match: %w", m.ID, err)
		}
		m.CreatedAt = fromNanos(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteTrustMapping removes a mapping; identities it admitted are refused
// from the next call on. A missing mapping is an errs.NotFound.
func (s *Store) DeleteTrustMapping(ctx context.Context, id string) error {
	return s.execOne(ctx, errs.New(errs.NotFound, "trust mapping %s not found", id), `DELETE FROM trust_mappings WHERE id = ?`, id)
}

// LinkedPrincipal returns the principal provisioned for an external
// identity (kind and subject, e.g. tailscale and a login), or
// errs.NotFound.
func (s *Store) LinkedPrincipal(ctx context.Context, kind, subject string) (Principal, error) {
	p, err := scanPrincipal(s.db.QueryRowContext(ctx, linkedPrincipal, kind, subject))
	return p, notFound(err, "principal for "+kind+" "+subject)
}

const linkedPrincipal = `SELECT p.id, p.name, p.kind, p.admin, p.created_at
FROM principal_links l JOIN principals p ON p.id = l.principal_id WHERE l.kind = ? AND l.subject = ?`

// ProvisionPrincipal returns the principal linked to an external identity,
// making p and the link first when there is none. When p's name is taken
// a short suffix is added. Concurrent calls for one identity make one
// principal.
func (s *Store) ProvisionPrincipal(ctx context.Context, kind, subject string, p Principal) (Principal, error) {
	var out Principal
	err := s.tx(ctx, func(tx *sql.Tx) error {
		found, err := scanPrincipal(tx.QueryRowContext(ctx, linkedPrincipal, kind, subject))
		if err == nil {
			out = found
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		base := p.Name
		for i := 0; ; i++ {
			if i > 0 {
				p.Name = fmt.Sprintf("%s-%d", base, i+1)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO principals (id, name, kind, admin, created_at) VALUES (?, ?, ?, ?, ?)`,
				p.ID, p.Name, p.Kind, p.Admin, nanos(p.CreatedAt))
			if err == nil || !isUnique(err) || !strings.Contains(err.Error(), "principals.name") || i == 20 {
				break
			}
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO principal_links (kind, subject, principal_id, created_at) VALUES (?, ?, ?, ?)`,
			kind, subject, p.ID, nanos(p.CreatedAt)); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}
