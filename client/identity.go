package client

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/PostHog/hogland/api"
)

// Health is hogplane's answer to GET /healthz.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// Health reports whether hogplane and its database answer, and its
// version. It needs no token.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.do(ctx, call{method: http.MethodGet, path: "/healthz", idempotent: true}, &h)
	return h, err
}

// Metrics returns hogplane's Prometheus metrics in the text format. It
// needs no token; a hogplane without metrics answers 404.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.send(ctx, call{method: http.MethodGet, path: "/metrics", idempotent: true,
		header: http.Header{"Accept": {"text/plain"}}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET /metrics: read answer: %w", err)
	}
	return string(b), nil
}

// Me returns the caller's principal and how the call was authenticated;
// it is the cheapest way to check a token (IsUnauthenticated when it is
// not valid).
func (c *Client) Me(ctx context.Context) (api.Me, error) {
	var me api.Me
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/me", idempotent: true}, &me)
	return me, err
}

// Limits returns the valid ranges of box settings, the images and kinds,
// and the caller's quota and usage.
func (c *Client) Limits(ctx context.Context) (api.Limits, error) {
	var l api.Limits
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/limits", idempotent: true}, &l)
	return l, err
}
