// Package client is the Go client of hogland's /v1 HTTP API, the one the
// hog CLI uses.
//
//	c, err := client.New(client.Options{Host: "http://127.0.0.1:8470", Token: tok})
//	box, err := c.CreateBox(ctx, api.CreateBoxRequest{Image: "busybox"})
//	res, err := c.Exec(ctx, box.ID, api.ExecRequest{Argv: []string{"echo", "hi"}})
//
// Every method takes a context and honours its cancellation. A call that
// fails with an answer from hogplane returns an *Error carrying the
// problem details and request id; test it with IsNotFound, IsConflict and
// the other predicates.
//
// Calls are retried, with exponential backoff and jitter, on connection
// errors and on answers that ask for it (429, 503, and 409 with
// Retry-After, whose delay is honoured), but only when a retry cannot do
// the work twice: reads, deletes, updates, file and archive writes whose
// body can be rewound, pause, resume, devbox start and stop, and box
// creation (which always carries an Idempotency-Key). Calls that would
// run or make something twice (exec, snapshots, devbox, principal and
// token creation) are never retried; each method's comment says which it
// is.
//
// Streams (ExecStream, Terminal, TunnelConn) live within the context they
// were opened with, as an http.Response body does, and must be closed.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxRetries is the number of retries when Options.MaxRetries is 0.
const DefaultMaxRetries = 4

// Options configure a Client.
type Options struct {
	// Host is the base URL of hogplane, such as http://127.0.0.1:8470.
	Host string
	// Token is the API token (tok_...) sent as a bearer credential.
	Token string
	// TokenFunc, when set, is called before every request for the token
	// and wins over Token; use it to read a token that can change.
	TokenFunc func(ctx context.Context) (string, error)
	// HTTPClient sends the requests; nil means a client without an overall
	// timeout (streams and long execs are bounded by their contexts).
	HTTPClient *http.Client
	// UserAgent is sent with every request; empty means "hogland-go".
	UserAgent string
	// MaxRetries bounds the retries of one call: 0 means
	// DefaultMaxRetries, a negative number turns retries off.
	MaxRetries int
}

// Client calls one hogplane. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     func(ctx context.Context) (string, error)
	hc        *http.Client
	userAgent string
	retries   int
	// backoff and sleep are fields so tests can observe and skip waits.
	backoff func(attempt int) time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
}

// New makes a Client. It fails when Host is not an http or https URL.
func New(o Options) (*Client, error) {
	u, err := parseHost(o.Host)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:      u,
		hc:        o.HTTPClient,
		userAgent: o.UserAgent,
		retries:   o.MaxRetries,
		backoff:   backoff,
		sleep:     sleep,
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.userAgent == "" {
		c.userAgent = "hogland-go"
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultMaxRetries
	case c.retries < 0:
		c.retries = 0
	}
	c.token = o.TokenFunc
	if c.token == nil {
		tok := o.Token
		c.token = func(context.Context) (string, error) { return tok, nil }
	}
	return c, nil
}

func parseHost(host string) (*url.URL, error) {
	if host == "" {
		return nil, errors.New("no hogplane host given; set one such as http://127.0.0.1:8470")
	}
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("host %q is not a URL such as http://127.0.0.1:8470", host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("host %q must not have a query or fragment", host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Host is the base URL the client calls.
func (c *Client) Host() string { return c.base.String() }

// call describes one API call.
type call struct {
	method string
	// path is already escaped, such as /v1/hogboxes/box-1.
	path   string
	query  url.Values
	header http.Header
	// json, when not nil, is marshalled as the body.
	json any
	// body is a raw body; it is re-sent on a retry only if it is an
	// io.Seeker.
	body io.Reader
	// size is the length of body when known (above zero), so the server
	// can refuse an oversized body before it is sent.
	size        int64
	contentType string
	// idempotent calls may be retried after a connection error or an
	// answer that asks for a retry.
	idempotent bool
}

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }

// do sends c and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", cl.method, cl.path, err)
	}
	return nil
}

// send sends c, retrying as allowed, and returns a 2xx response whose body
// the caller closes, or an error (an *Error for a non-2xx answer).
func (c *Client) send(ctx context.Context, cl call) (*http.Response, error) {
	var payload []byte
	if cl.json != nil {
		b, err := json.Marshal(cl.json)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", cl.method, cl.path, err)
		}
		payload = b
	}
	rewind, canRewind := rewinder(cl.body)
	for attempt := 0; ; attempt++ {
		if attempt > 0 && cl.body != nil {
			if err := rewind(); err != nil {
				return nil, fmt.Errorf("%s %s: rewind body for a retry: %w", cl.method, cl.path, err)
			}
		}
		req, err := c.newRequest(ctx, cl, payload)
		if err != nil {
			return nil, err
		}
		retryable := cl.idempotent && (cl.body == nil || canRewind) && attempt < c.retries
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !retryable {
				return nil, &ConnError{Host: c.Host(), Op: cl.method + " " + cl.path, Err: err}
			}
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		apiErr := readError(resp)
		if !retryable || !apiErr.retryable() || apiErr.RetryAfter > maxRetryAfter {
			return nil, apiErr
		}
		wait := c.backoff(attempt)
		if apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter + jitter(apiErr.RetryAfter)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) newRequest(ctx context.Context, cl call, payload []byte) (*http.Request, error) {
	var body io.Reader
	switch {
	case payload != nil:
		body = bytes.NewReader(payload)
	case cl.body != nil:
		// Hide any Seek/Len so that net/http streams it as it is.
		body = io.NopCloser(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.endpoint(cl.path, cl.query.Encode()), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
	}
	if cl.body != nil && cl.size > 0 {
		req.ContentLength = cl.size
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.userAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	switch {
	case payload != nil:
		req.Header.Set("Content-Type", "application/json")
	case cl.contentType != "":
		req.Header.Set("Content-Type", cl.contentType)
	}
	if err := c.authorize(ctx, req.Header); err != nil {
		return nil, err
	}
	return req, nil
}

// endpoint is the URL of path (already escaped) on hogplane, with a raw
// query.
func (c *Client) endpoint(path, rawQuery string) string {
	u := *c.base
	u.Path += path
	u.RawQuery = rawQuery
	return u.String()
}

// authorize sets the bearer token in h, when there is one.
func (c *Client) authorize(ctx context.Context, h http.Header) error {
	tok, err := c.token(ctx)
	if err != nil {
		return fmt.Errorf("get token: %w", err)
	}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// rewinder returns a function that puts a seekable body back where it
// started, and whether the body can be rewound at all.
func rewinder(body io.Reader) (func() error, bool) {
	s, ok := body.(io.Seeker)
	if !ok {
		return func() error { return errors.New("body cannot be rewound") }, false
	}
	start, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return func() error { return err }, false
	}
	return func() error {
		_, err := s.Seek(start, io.SeekStart)
		return err
	}, true
}
