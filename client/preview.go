package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/PostHog/hogland/api"
)

// CreatePreviewToken mints a preview link that opens one port of the box
// to anyone holding it, until it expires or is revoked. The secret and
// URL are only in this answer. It is not retried.
func (c *Client) CreatePreviewToken(ctx context.Context, boxID string, req api.CreatePreviewTokenRequest) (api.PreviewToken, error) {
	var t api.PreviewToken
	err := c.do(ctx, call{method: http.MethodPost, path: boxPath(boxID) + "/proxy-tokens", json: req}, &t)
	return t, err
}

// ListPreviewTokens returns the box's preview tokens, without secrets.
func (c *Client) ListPreviewTokens(ctx context.Context, boxID string) (api.PreviewTokenList, error) {
	var l api.PreviewTokenList
	err := c.do(ctx, call{method: http.MethodGet, path: boxPath(boxID) + "/proxy-tokens", idempotent: true}, &l)
	return l, err
}

// RevokePreviewToken revokes a preview token; it stops working at once.
func (c *Client) RevokePreviewToken(ctx context.Context, boxID, tokenID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: boxPath(boxID) + "/proxy-tokens/" + escape(tokenID), idempotent: true}, nil)
}

// ProxyURL is the URL at which hogplane forwards requests to
// 127.0.0.1:port inside the box, followed by path. It carries no
// credential: send the token as a bearer header, or use a preview token.
func (c *Client) ProxyURL(boxID string, port int, path string) string {
	return c.Host() + proxyPath(boxID, port, path)
}

func proxyPath(boxID string, port int, path string) string {
	return fmt.Sprintf("%s/proxy/%d/%s", boxPath(boxID), port, trimSlash(path))
}

func trimSlash(path string) string { return strings.TrimPrefix(path, "/") }

// Proxy sends req to 127.0.0.1:port inside the box through hogplane,
// with the client's token; req.URL gives the path and query in the box,
// and its method, headers and body go as they are. The answer of the
// server in the box comes back as it is, whatever its status: close its
// body. Answers of hogplane itself (401, 403, 404, 409 while paused, 502
// when nothing listens) carry problem details and an X-Request-Id. Proxy
// does not retry.
func (c *Client) Proxy(ctx context.Context, boxID string, port int, req *http.Request) (*http.Response, error) {
	return c.proxy(ctx, proxyPath(boxID, port, req.URL.Path), req)
}

// proxy sends req to path on hogplane as it is, with the token.
func (c *Client) proxy(ctx context.Context, path string, req *http.Request) (*http.Response, error) {
	out, err := http.NewRequestWithContext(ctx, req.Method, c.endpoint(path, req.URL.RawQuery), req.Body)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", path, err)
	}
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.ContentLength = req.ContentLength
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", c.userAgent)
	}
	if err := c.authorize(ctx, out.Header); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(out)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnError{Host: c.Host(), Op: req.Method + " " + path, Err: err}
	}
	return resp, nil
}
