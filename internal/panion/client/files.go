package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// WriteFile streams body into the file at path (absolute) in the box,
// atomically: readers see the old file or the new one. mode is the file's
// permission bits (0: 0644; setuid, setgid and sticky are kept); mkdir
// creates missing parent directories. The body is not buffered.
func (c *Client) WriteFile(ctx context.Context, path string, mode os.FileMode, mkdir bool, body io.Reader) (api.FileInfo, error) {
	return c.WriteFileWith(ctx, path, body, WriteOptions{Mode: mode, Mkdir: mkdir})
}

// WriteOptions tune WriteFileWith.
type WriteOptions struct {
	Mode  os.FileMode // 0: the agent's default (0644)
	Mkdir bool        // create missing parent directories
	// NoHash asks the agent not to hash the bytes (the answer's SHA256 is
	// then empty): for a caller that hashes them itself on the way in.
	NoHash bool
	// Size, when > 0, is the body's exact length. It is sent as
	// Content-Length, which the agent reads in bigger pieces than a
	// chunked body. A body of another length fails the call and leaves
	// the file as it was.
	Size int64
}

// WriteFileWith is WriteFile with options.
func (c *Client) WriteFileWith(ctx context.Context, path string, body io.Reader, o WriteOptions) (api.FileInfo, error) {
	mode, mkdir := o.Mode, o.Mkdir
	q := url.Values{"path": {path}, "mkdir": {strconv.FormatBool(mkdir)}}
	if o.NoHash {
		q.Set("hash", "false")
	}
	if mode != 0 {
		q.Set("mode", fmt.Sprintf("%04o", unixMode(mode)))
	}
	if body == nil {
		body = http.NoBody
	}
	if o.Size > 0 {
		body = &exactBody{r: body, left: o.Size}
	}
	var info api.FileInfo
	err := c.doJSON(ctx, request{method: http.MethodPut, path: "/v1/files", query: q, body: body,
		ctype: "application/octet-stream", want: http.StatusOK, size: o.Size}, nil, &info)
	return info, err
}

// exactBody passes on a body declared left bytes long. It holds back the
// read that completes the declared length until it has made sure the body
// ends there: the agent must not get a whole request, and write the file,
// from a body that was longer than declared.
type exactBody struct {
	r    io.Reader
	left int64
}

func (b *exactBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left > 0 || err != nil {
		return n, err
	}
	var one [1]byte
	for {
		m, err := b.r.Read(one[:])
		switch {
		case m > 0:
			return 0, errors.New("the body is longer than its declared size")
		case err == io.EOF:
			return n, nil
		case err != nil:
			return 0, err
		}
	}
}

// ReadFile streams the file at path (absolute) out of the box, read until
// EOF, so /proc and /sys files work. The caller closes the reader; a read
// error from it means the file could not be read whole.
func (c *Client) ReadFile(ctx context.Context, path string) (io.ReadCloser, error) {
	q := url.Values{"path": {path}}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/files", query: q, want: http.StatusOK})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// unixMode converts an os.FileMode to Unix mode bits.
func unixMode(m os.FileMode) uint32 {
	n := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		n |= 0o1000
	}
	return n
}
