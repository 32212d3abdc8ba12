package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/PostHog/hogland/api"
)

// CreatePrincipal makes a principal (a user or a service); only admins may.
// It is not retried. Errors: IsPermissionDenied for a caller who is not an
// admin, IsInvalid for a bad name or kind.
func (c *Client) CreatePrincipal(ctx context.Context, req api.CreatePrincipalRequest) (api.Principal, error) {
	var p api.Principal
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/principals", json: req}, &p)
	return p, err
}

// CreateToken mints an API token for a principal; only admins may. The
// secret is in the answer's Token field and is never shown again. It is
// not retried. Errors: IsNotFound for an unknown principal.
func (c *Client) CreateToken(ctx context.Context, principalID string, req api.CreateTokenRequest) (api.Token, error) {
	var t api.Token
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/principals/" + escape(principalID) + "/tokens", json: req}, &t)
	return t, err
}

// ListPrincipals returns every principal, oldest first; only admins may.
func (c *Client) ListPrincipals(ctx context.Context) (api.PrincipalList, error) {
	var l api.PrincipalList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/principals", idempotent: true}, &l)
	return l, err
}

func principalPath(id string) string { return "/v1/principals/" + escape(id) }

// GetPrincipal returns a principal with its quota, overrides and usage;
// admins may see any, others only themselves.
func (c *Client) GetPrincipal(ctx context.Context, id string) (api.PrincipalDetail, error) {
	var p api.PrincipalDetail
	err := c.do(ctx, call{method: http.MethodGet, path: principalPath(id), idempotent: true}, &p)
	return p, err
}

// UpdatePrincipal sets a principal's quota overrides (replacing them);
// only admins may. Sending the same change twice is harmless, so it is
// retried.
func (c *Client) UpdatePrincipal(ctx context.Context, id string, req api.UpdatePrincipalRequest) (api.PrincipalDetail, error) {
	var p api.PrincipalDetail
	err := c.do(ctx, call{method: http.MethodPatch, path: principalPath(id), json: req, idempotent: true}, &p)
	return p, err
}

// ListTokens returns a principal's API tokens, without their secrets.
func (c *Client) ListTokens(ctx context.Context, principalID string) (api.TokenList, error) {
	var l api.TokenList
	err := c.do(ctx, call{method: http.MethodGet, path: principalPath(principalID) + "/tokens", idempotent: true}, &l)
	return l, err
}

// RevokeToken revokes an API token; it is refused from the next call on.
// Revoking twice is harmless.
func (c *Client) RevokeToken(ctx context.Context, principalID, tokenID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: principalPath(principalID) + "/tokens/" + escape(tokenID), idempotent: true}, nil)
}

// CreateTrustMapping admits external identities (Kubernetes service
// accounts, GitHub Actions jobs, tailnet users) as a principal; only
// admins may. It is not retried.
func (c *Client) CreateTrustMapping(ctx context.Context, req api.CreateTrustMappingRequest) (api.TrustMapping, error) {
	var m api.TrustMapping
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/trust-mappings", json: req}, &m)
	return m, err
}

// ListTrustMappings returns every trust mapping, oldest first.
func (c *Client) ListTrustMappings(ctx context.Context) (api.TrustMappingList, error) {
	var l api.TrustMappingList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/trust-mappings", idempotent: true}, &l)
	return l, err
}

// GetTrustMapping returns one trust mapping.
func (c *Client) GetTrustMapping(ctx context.Context, id string) (api.TrustMapping, error) {
	var m api.TrustMapping
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/trust-mappings/" + escape(id), idempotent: true}, &m)
	return m, err
}

// DeleteTrustMapping removes a trust mapping; identities it admitted are
// refused from the next call on.
func (c *Client) DeleteTrustMapping(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/trust-mappings/" + escape(id), idempotent: true}, nil)
}

// AuditOptions select entries of the audit log.
type AuditOptions struct {
	// Principal, Box and Snapshot keep the calls by or on them.
	Principal, Box, Snapshot string
	// Since keeps entries at or after it, when not zero.
	Since time.Time
	// After is the NextAfter of the previous page (0 for the first).
	After int64
	// Limit is the page size, 1 to 1000; 0 means the server's (100).
	Limit int
}

// ListAudit returns one page of the audit log, oldest first; only admins
// may read it.
func (c *Client) ListAudit(ctx context.Context, o AuditOptions) (api.AuditList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"principal": o.Principal, "box": o.Box, "snapshot": o.Snapshot} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if o.After > 0 {
		q.Set("after", strconv.FormatInt(o.After, 10))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var l api.AuditList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/audit", query: q, idempotent: true}, &l)
	return l, err
}
