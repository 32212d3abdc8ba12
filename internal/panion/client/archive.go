package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// ReadArchive streams a tar of path (absolute) in the box: a file, a
// symlink or a directory tree, with entry names that start with path's
// base name. The caller closes the reader; a read error from it means the
// archive is not whole.
func (c *Client) ReadArchive(ctx context.Context, path string) (io.ReadCloser, error) {
	q := url.Values{"path": {path}}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/archive", query: q, want: http.StatusOK})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WriteArchive extracts the tar stream body into the directory dir
// (absolute) in the box; mkdir creates dir and its missing parents. The
// body is not buffered. Entries that would leave dir, device nodes and
// FIFOs fail with errs.Invalid; what came before them stays extracted.
func (c *Client) WriteArchive(ctx context.Context, dir string, mkdir bool, body io.Reader) (api.ArchiveInfo, error) {
	q := url.Values{"path": {dir}, "mkdir": {strconv.FormatBool(mkdir)}}
	if body == nil {
		body = http.NoBody
	}
	var info api.ArchiveInfo
	err := c.doJSON(ctx, request{method: http.MethodPut, path: "/v1/archive", query: q, body: body,
		ctype: "application/x-tar", want: http.StatusOK}, nil, &info)
	return info, err
}
