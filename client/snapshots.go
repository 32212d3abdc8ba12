package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// SnapshotBox snapshots a running or paused box (which keeps running) and
// returns the snapshot once it is durable. It is not retried, as a retry
// would take a second snapshot. Start a box from it with
// CreateBoxRequest.SnapshotID.
func (c *Client) SnapshotBox(ctx context.Context, boxID string) (api.Snapshot, error) {
	var s api.Snapshot
	err := c.do(ctx, call{method: http.MethodPost, path: boxPath(boxID) + "/snapshot"}, &s)
	return s, err
}

// ListSnapshotsOptions select snapshots and a page of them.
type ListSnapshotsOptions struct {
	// Limit is the page size, 1 to 500; 0 means the server's (50).
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// Alias keeps the snapshot this alias points at.
	Alias string
	// BoxID keeps the snapshots taken of this box.
	BoxID string
}

// ListSnapshots returns one page of the caller's snapshots, newest first.
func (c *Client) ListSnapshots(ctx context.Context, o ListSnapshotsOptions) (api.SnapshotList, error) {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	for k, v := range map[string]string{"cursor": o.Cursor, "alias": o.Alias, "box_id": o.BoxID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var l api.SnapshotList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/snapshots", query: q, idempotent: true}, &l)
	return l, err
}

// AllSnapshots iterates over every snapshot o selects, page by page. An
// error ends the iteration after it is yielded.
func (c *Client) AllSnapshots(ctx context.Context, o ListSnapshotsOptions) iter.Seq2[api.Snapshot, error] {
	return pages(o.Cursor, func(cursor string) ([]api.Snapshot, string, error) {
		o.Cursor = cursor
		page, err := c.ListSnapshots(ctx, o)
		return page.Items, page.NextCursor, err
	})
}

func snapshotPath(id string) string { return "/v1/snapshots/" + escape(id) }

// GetSnapshot returns a snapshot. Errors: IsNotFound.
func (c *Client) GetSnapshot(ctx context.Context, id string) (api.Snapshot, error) {
	var s api.Snapshot
	err := c.do(ctx, call{method: http.MethodGet, path: snapshotPath(id), idempotent: true}, &s)
	return s, err
}

// DeleteSnapshot deletes a snapshot. Errors: IsConflict while boxes,
// snapshots, aliases or devboxes stand on it (the problem's "dependents"
// member names them).
func (c *Client) DeleteSnapshot(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: snapshotPath(id), idempotent: true}, nil)
}

// SetSnapshotAlias points the caller's alias at a snapshot, creating or
// moving it; the answer names the snapshot it pointed at before.
func (c *Client) SetSnapshotAlias(ctx context.Context, snapshotID, alias string) (api.SnapshotAlias, error) {
	var a api.SnapshotAlias
	err := c.do(ctx, call{method: http.MethodPut, path: snapshotPath(snapshotID) + "/aliases/" + escape(alias), idempotent: true}, &a)
	return a, err
}

// DeleteSnapshotAlias removes an alias from a snapshot.
func (c *Client) DeleteSnapshotAlias(ctx context.Context, snapshotID, alias string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: snapshotPath(snapshotID) + "/aliases/" + escape(alias), idempotent: true}, nil)
}

// ListSnapshotAliases returns the caller's aliases.
func (c *Client) ListSnapshotAliases(ctx context.Context) (api.SnapshotAliasList, error) {
	var l api.SnapshotAliasList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/snapshot-aliases", idempotent: true}, &l)
	return l, err
}
