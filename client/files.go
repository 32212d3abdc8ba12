package client

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"

	"github.com/PostHog/hogland/api"
)

// WriteFileOptions shape a file write.
type WriteFileOptions struct {
	// Mode holds the file's permission bits (and setuid, setgid, sticky);
	// 0 means 0644.
	Mode fs.FileMode
	// Mkdir creates missing parent directories.
	Mkdir bool
}

// WriteFile streams r into the file at path (absolute) in the box. The
// server writes it atomically: readers see the old file or the new one.
// The write is retried after a lost connection only when r is an
// io.Seeker (an *os.File, a *bytes.Reader, ...). Errors: IsTooLarge over
// Limits().FileSizeBytes, IsInvalid for a relative path or a directory.
func (c *Client) WriteFile(ctx context.Context, boxID, path string, r io.Reader, o WriteFileOptions) (api.FileInfo, error) {
	q := url.Values{"path": {path}}
	if o.Mode != 0 {
		q.Set("mode", fmt.Sprintf("%04o", unixMode(o.Mode)))
	}
	if o.Mkdir {
		q.Set("mkdir", "true")
	}
	var fi api.FileInfo
	err := c.do(ctx, call{
		method: http.MethodPut, path: boxPath(boxID) + "/files", query: q,
		body: r, size: bodySize(r), contentType: "application/octet-stream",
		idempotent: true,
	}, &fi)
	return fi, err
}

// ReadFile opens the file at path (absolute) in the box and streams its
// bytes to its end; the caller closes it. A transfer cut short fails the
// read with an error rather than a short file. Errors: IsNotFound for a
// missing file, IsInvalid for a directory.
func (c *Client) ReadFile(ctx context.Context, boxID, path string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, call{
		method: http.MethodGet, path: boxPath(boxID) + "/files", query: url.Values{"path": {path}},
		header: http.Header{"Accept": {"application/octet-stream"}}, idempotent: true,
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// unixMode turns an fs.FileMode into Unix permission bits.
func unixMode(m fs.FileMode) uint32 {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return n
}

// bodySize is the number of bytes left in r when that is cheap to know,
// else 0.
func bodySize(r io.Reader) int64 {
	switch b := r.(type) {
	case interface{ Len() int }:
		return int64(b.Len())
	case *os.File:
		st, err := b.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0
		}
		off, err := b.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return st.Size() - off
	}
	return 0
}

// ReadArchive streams a tar of the file, symlink or directory tree at
// path (absolute) in the box; the caller closes it. Entry names start with
// path's base name, and the first entry is path itself. Modes, mtimes and
// symlinks are kept (links are not followed). A transfer cut short fails
// the read rather than ending the archive early.
func (c *Client) ReadArchive(ctx context.Context, boxID, path string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, call{
		method: http.MethodGet, path: boxPath(boxID) + "/archive", query: url.Values{"path": {path}},
		header: http.Header{"Accept": {"application/x-tar"}}, idempotent: true,
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WriteArchiveOptions shape an archive upload.
type WriteArchiveOptions struct {
	// Mkdir creates the target directory and its missing parents.
	Mkdir bool
}

// WriteArchive extracts the tar stream r into the directory dir
// (absolute) in the box. Entries must stay inside dir (IsInvalid
// otherwise); existing files are replaced. Extraction stops at the first
// bad entry, and what came before stays. The upload is retried after a
// lost connection only when r is an io.Seeker.
func (c *Client) WriteArchive(ctx context.Context, boxID, dir string, r io.Reader, o WriteArchiveOptions) (api.ArchiveInfo, error) {
	q := url.Values{"path": {dir}}
	if o.Mkdir {
		q.Set("mkdir", "true")
	}
	var info api.ArchiveInfo
	err := c.do(ctx, call{
		method: http.MethodPut, path: boxPath(boxID) + "/archive", query: q,
		body: r, size: bodySize(r), contentType: "application/x-tar",
		idempotent: true,
	}, &info)
	return info, err
}
