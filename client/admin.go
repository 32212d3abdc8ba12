package client

import (
	"context"
	"net/http"

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
