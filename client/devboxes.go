package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// Devboxes are named, long-lived boxes that sleep when idle: stopping one
// snapshots its disk, starting it runs a new box from that snapshot. Each
// method takes the devbox's id (dbx-...) or its name.

func devboxPath(ref string) string { return "/v1/devboxes/" + escape(ref) }

// CreateDevbox makes a devbox and starts it. It is not retried (the name
// makes a second create fail with IsConflict rather than make two).
func (c *Client) CreateDevbox(ctx context.Context, req api.CreateDevboxRequest) (api.Devbox, error) {
	var d api.Devbox
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/devboxes", json: req}, &d)
	return d, err
}

// ListDevboxes returns one page of the caller's devboxes; limit 0 means
// the server's page size, cursor is the NextCursor of the previous page.
func (c *Client) ListDevboxes(ctx context.Context, limit int, cursor string) (api.DevboxList, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var l api.DevboxList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/devboxes", query: q, idempotent: true}, &l)
	return l, err
}

// GetDevbox returns a devbox. Errors: IsNotFound.
func (c *Client) GetDevbox(ctx context.Context, ref string) (api.Devbox, error) {
	var d api.Devbox
	err := c.do(ctx, call{method: http.MethodGet, path: devboxPath(ref), idempotent: true}, &d)
	return d, err
}

// UpdateDevbox changes a devbox's auto-stop and auto-start settings.
func (c *Client) UpdateDevbox(ctx context.Context, ref string, req api.UpdateDevboxRequest) (api.Devbox, error) {
	var d api.Devbox
	err := c.do(ctx, call{method: http.MethodPatch, path: devboxPath(ref), json: req, idempotent: true}, &d)
	return d, err
}

// DeleteDevbox destroys a devbox, its box and its disk.
func (c *Client) DeleteDevbox(ctx context.Context, ref string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: devboxPath(ref), idempotent: true}, nil)
}

// StartDevbox starts a stopped devbox from its disk; starting a running
// one is harmless.
func (c *Client) StartDevbox(ctx context.Context, ref string) (api.Devbox, error) {
	var d api.Devbox
	err := c.do(ctx, call{method: http.MethodPost, path: devboxPath(ref) + "/start", idempotent: true}, &d)
	return d, err
}

// StopDevbox snapshots a devbox's disk and ends its box; stopping a
// stopped one is harmless.
func (c *Client) StopDevbox(ctx context.Context, ref string) (api.Devbox, error) {
	var d api.Devbox
	err := c.do(ctx, call{method: http.MethodPost, path: devboxPath(ref) + "/stop", idempotent: true}, &d)
	return d, err
}

// DevboxEvents returns a devbox's history after seq after (0 for all).
func (c *Client) DevboxEvents(ctx context.Context, ref string, after int64) (api.DevboxEventList, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	var l api.DevboxEventList
	err := c.do(ctx, call{method: http.MethodGet, path: devboxPath(ref) + "/events", query: q, idempotent: true}, &l)
	return l, err
}

// ExecDevbox runs a command in a devbox (starting it first when it is
// stopped and auto_start is on) and returns its result, as Exec does. It
// is not retried.
func (c *Client) ExecDevbox(ctx context.Context, ref string, req api.ExecRequest) (api.ExecResult, error) {
	var r api.ExecResult
	err := c.do(ctx, call{method: http.MethodPost, path: devboxPath(ref) + "/exec", json: req}, &r)
	return r, err
}

// DevboxProxyURL is the URL at which hogplane forwards requests to
// 127.0.0.1:port in the devbox's box; only the owner's token opens it.
func (c *Client) DevboxProxyURL(ref string, port int, path string) string {
	return c.Host() + devboxProxyPath(ref, port, path)
}

func devboxProxyPath(ref string, port int, path string) string {
	return devboxPath(ref) + "/proxy/" + strconv.Itoa(port) + "/" + trimSlash(path)
}

// DevboxProxy sends req to 127.0.0.1:port in the devbox's box, starting a
// stopped devbox first when auto_start is on; otherwise as Proxy.
func (c *Client) DevboxProxy(ctx context.Context, ref string, port int, req *http.Request) (*http.Response, error) {
	return c.proxy(ctx, devboxProxyPath(ref, port, req.URL.Path), req)
}
