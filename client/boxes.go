package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// CallOption changes one call.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
}

// IdempotencyKey sets the Idempotency-Key of a create. A create retried
// with the same key and body returns the box the first one made. Without
// this option CreateBox makes up a random key per call, which is enough
// for its own retries.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// CreateBox creates a box and returns it once it runs. The request carries
// an Idempotency-Key, so it is retried safely after a lost connection.
// Errors: IsInvalid for a setting out of range (see Limits), IsConflict
// for a name already taken, IsRateLimited or a 403 over quota.
func (c *Client) CreateBox(ctx context.Context, req api.CreateBoxRequest, opts ...CallOption) (api.Box, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.idempotencyKey == "" {
		o.idempotencyKey = randomKey()
	}
	var b api.Box
	err := c.do(ctx, call{
		method: http.MethodPost, path: "/v1/hogboxes", json: req,
		header:     http.Header{"Idempotency-Key": {o.idempotencyKey}},
		idempotent: true,
	}, &b)
	return b, err
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// GetBox returns a box. Errors: IsNotFound when it does not exist or is
// not the caller's.
func (c *Client) GetBox(ctx context.Context, id string) (api.Box, error) {
	var b api.Box
	err := c.do(ctx, call{method: http.MethodGet, path: boxPath(id), idempotent: true}, &b)
	return b, err
}

func boxPath(id string) string { return "/v1/hogboxes/" + escape(id) }

// ListBoxesOptions select boxes and a page of them.
type ListBoxesOptions struct {
	// Limit is the page size, 1 to 500; 0 means the server's default (50).
	Limit int
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor string
	// Status keeps boxes with one of these statuses (api.StatusRunning...).
	Status []string
	// Tags keeps boxes that have every one of these key=value tags.
	Tags []string
}

func (o ListBoxesOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	for _, s := range o.Status {
		q.Add("status", s)
	}
	for _, t := range o.Tags {
		q.Add("tag", t)
	}
	return q
}

// ListBoxes returns one page of the caller's boxes, newest first.
func (c *Client) ListBoxes(ctx context.Context, o ListBoxesOptions) (api.BoxList, error) {
	var l api.BoxList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/hogboxes", query: o.query(), idempotent: true}, &l)
	return l, err
}

// AllBoxes iterates over every box that o selects, fetching pages as it
// goes (o.Limit is the page size). An error ends the iteration after it is
// yielded.
//
//	for b, err := range c.AllBoxes(ctx, client.ListBoxesOptions{}) {
//		if err != nil { return err }
//		fmt.Println(b.ID)
//	}
func (c *Client) AllBoxes(ctx context.Context, o ListBoxesOptions) iter.Seq2[api.Box, error] {
	return pages(o.Cursor, func(cursor string) ([]api.Box, string, error) {
		o.Cursor = cursor
		page, err := c.ListBoxes(ctx, o)
		return page.Items, page.NextCursor, err
	})
}

// pages iterates over the items of the pages that list returns, from the
// page at cursor until one has no next cursor (or repeats its own). An
// error ends the iteration after it is yielded.
func pages[T any](cursor string, list func(cursor string) (items []T, next string, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for cur := cursor; ; {
			items, next, err := list(cur)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == cur {
				return
			}
			cur = next
		}
	}
}

// UpdateBox changes a box's name, tags or idle TTL (nil fields are left
// alone); a new TTL restarts the idle clock.
func (c *Client) UpdateBox(ctx context.Context, id string, req api.UpdateBoxRequest) (api.Box, error) {
	var b api.Box
	err := c.do(ctx, call{method: http.MethodPatch, path: boxPath(id), json: req, idempotent: true}, &b)
	return b, err
}

// DeleteBox destroys a box. Destroying a box that already stopped is
// harmless. Errors: IsNotFound when it does not exist or is not the
// caller's.
func (c *Client) DeleteBox(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: boxPath(id), idempotent: true}, nil)
}

// PauseBox freezes every process of a box and returns it paused; pausing
// a paused box is harmless. Errors: IsConflict when it is not running.
func (c *Client) PauseBox(ctx context.Context, id string) (api.Box, error) {
	var b api.Box
	err := c.do(ctx, call{method: http.MethodPost, path: boxPath(id) + "/pause", idempotent: true}, &b)
	return b, err
}

// ResumeBox thaws a paused box and returns it running; resuming a running
// box is harmless.
func (c *Client) ResumeBox(ctx context.Context, id string) (api.Box, error) {
	var b api.Box
	err := c.do(ctx, call{method: http.MethodPost, path: boxPath(id) + "/resume", idempotent: true}, &b)
	return b, err
}

// BoxEvents returns a box's lifecycle history (created, paused, oom,
// destroyed, ...) after the event with seq after (0 for all), oldest
// first.
func (c *Client) BoxEvents(ctx context.Context, id string, after int64) (api.BoxEventList, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	var l api.BoxEventList
	err := c.do(ctx, call{method: http.MethodGet, path: boxPath(id) + "/events", query: q, idempotent: true}, &l)
	return l, err
}
