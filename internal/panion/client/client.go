// Package client is the host side of the hogpanion protocol
// (docs/agent-protocol.md): plain HTTP/1.1 over whatever byte stream
// reaches the agent of one box, a Unix socket or vsock alike.
//
// Every method fails with an *errs.Error: the agent's problem details
// turned back into their kind, or errs.Unavailable when the agent could not
// be reached. A cancelled or expired ctx is returned as ctx's error.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// Health is the agent's answer to a health check.
type Health = wire.Health

// ExecStatus is the state of a streaming exec.
type ExecStatus = wire.ExecStatus

// DialFunc opens a new byte stream to the agent.
type DialFunc func(ctx context.Context) (net.Conn, error)

// baseURL is the fixed URL of the agent; dial decides where it really is.
const baseURL = "http://hogpanion"

// Client talks to one agent. It is safe for concurrent use and keeps idle
// connections for reuse.
type Client struct {
	dial DialFunc
	tr   *http.Transport
	hc   *http.Client
}

// New makes a Client whose every connection comes from dial.
func New(dial DialFunc) *Client {
	tr := &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{dial: dial, tr: tr, hc: &http.Client{Transport: tr}}
}

// Close drops the idle connections. Requests in flight are not affected.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// request is one call to the agent.
type request struct {
	method string
	path   string
	query  url.Values
	body   io.Reader
	ctype  string
	want   int // the success status; other 2xx answers are errors too
	// size, when > 0, is body's exact length, sent as Content-Length;
	// otherwise a body of unknown length goes chunked.
	size int64
}

// do sends r and answers the response when its status is r.want; any other
// answer is decoded into an error and the body closed.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	u := baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, r.body)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "bad agent request: %v", err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.size > 0 {
		req.ContentLength = r.size
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	if resp.StatusCode != r.want {
		defer closeBody(resp.Body)
		return nil, problemError(resp)
	}
	return resp, nil
}

// doJSON sends in (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *Client) doJSON(ctx context.Context, r request, in, out any) error {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return errs.Wrap(errs.Invalid, err, "encode agent request: %v", err)
		}
		r.body, r.ctype = strings.NewReader(string(b)), "application/json"
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer closeBody(resp.Body)
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return transportError(ctx, fmt.Errorf("decode agent answer: %w", err))
	}
	return nil
}

// closeBody reads a small answer to its end before closing it, so that
// its connection can be reused.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 64<<10))
	b.Close()
}

// transportError is err of a call that got no complete answer.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("hogpanion: %w", ctx.Err())
	}
	return errs.Wrap(errs.Unavailable, err, "the box agent did not answer")
}

// problemError decodes a non-success answer into an *errs.Error.
func problemError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var p api.Problem
	var kind errs.Kind
	if json.Unmarshal(b, &p) == nil {
		kind = errs.KindFromType(p.Type)
	}
	if kind == 0 {
		kind = errs.KindFromStatus(resp.StatusCode)
	}
	detail := p.Detail
	if detail == "" {
		detail = p.Title
	}
	if detail == "" && p.Type == "" {
		detail = strings.TrimSpace(string(b))
	}
	if detail == "" {
		detail = resp.Status
	}
	e := &errs.Error{Kind: kind, Detail: detail, Extra: p.Extra}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// Health checks that the agent answers.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.doJSON(ctx, request{method: http.MethodGet, path: "/v1/health", want: http.StatusOK}, nil, &h)
	return h, err
}
