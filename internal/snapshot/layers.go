// Package snapshot keeps the layers that filesystem snapshots are made
// of: it archives a captured layer content-addressed (sha256 of the
// archive) into a blob.Store, and unpacks layers into a local cache of
// read-only directories, shared by every box that stacks them, checking
// each archive's digest before its directory is used.
//
// On disk (Dir is Config.Dir):
//
//	Dir/sha256/<hex>/   an unpacked layer, used as an overlay lowerdir
//	Dir/.work/          captures, merges, archives and fetches in
//	                    progress; emptied by New (a crash leaves them)
//
// and in the blob store, layers/sha256/<hex>.tar.
package snapshot

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/blob"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/layer"
)

// Config configures Layers.
type Config struct {
	// Blobs keeps the layer archives (required).
	Blobs blob.Store
	// Dir holds the unpacked layers (required). It must be on a
	// filesystem overlayfs takes as a lower layer (ext4, xfs), and on the
	// same one as the directories captures are made in (WorkDir).
	Dir string
	// Log receives fetches, corruption and cleanup. Default slog.Default().
	Log *slog.Logger
	// Corrupt, when set, is called for every layer found corrupt.
	Corrupt func(digest string)
}

// Layer is a stored layer archive.
type Layer struct {
	Digest string // "sha256:<hex>" of the archive
	Size   int64  // of the archive, in bytes
}

// Layers stores and caches layers. Its methods are safe for concurrent
// use.
type Layers struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	fetching map[string]*fetch
}

type fetch struct {
	done chan struct{}
	path string
	err  error
}

// New opens the layer cache in cfg.Dir, removing what a crash left half
// done in its work directory.
func New(cfg Config) (*Layers, error) {
	if cfg.Blobs == nil || cfg.Dir == "" {
		return nil, errors.New("snapshot: need a blob store and a directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	l := &Layers{cfg: cfg, log: cfg.Log.With("component", "layers"), fetching: map[string]*fetch{}}
	if err := os.RemoveAll(l.workDir()); err != nil {
		return nil, fmt.Errorf("snapshot: clear work dir: %w", err)
	}
	for _, d := range []string{l.workDir(), filepath.Join(dir, "sha256")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
	}
	return l, nil
}

// Blobs is the store the layer archives are kept in.
func (l *Layers) Blobs() blob.Store { return l.cfg.Blobs }

func (l *Layers) workDir() string { return filepath.Join(l.cfg.Dir, ".work") }

func (l *Layers) cached(hexDigest string) string {
	return filepath.Join(l.cfg.Dir, "sha256", hexDigest)
}

func blobKey(hexDigest string) string { return "layers/sha256/" + hexDigest + ".tar" }

var digestRE = regexp.MustCompile(`^sha256:([0-9a-f]{64})$`)

func parseDigest(d string) (string, error) {
	m := digestRE.FindStringSubmatch(d)
	if m == nil {
		return "", fmt.Errorf("layer digest %q is not sha256:<64 hex>", d)
	}
	return m[1], nil
}

// WorkDir returns a fresh path, not yet made, in the work directory, for
// a capture to be made in and then given to Commit (or to Discard).
func (l *Layers) WorkDir(what string) string {
	return filepath.Join(l.workDir(), what+"-"+auth.RandomID("", 12))
}

// Discard removes a work directory that will not be committed.
func (l *Layers) Discard(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		l.log.Error("remove work dir", "dir", dir, "err", err)
	}
}

// Commit archives the layer in dir, stores the archive in the blob store
// under its digest (durably, before Commit returns), and moves dir into
// the cache. A layer over maxBytes (0: no limit) is refused before
// anything is stored.
func (l *Layers) Commit(ctx context.Context, dir string, maxBytes int64) (Layer, error) {
	spool, err := os.CreateTemp(l.workDir(), "archive-*.tar")
	if err != nil {
		return Layer{}, err
	}
	defer os.Remove(spool.Name()) // gone already once stored
	h := newAsyncHash()
	cw := &countWriter{w: io.MultiWriter(spool, h), max: maxBytes}
	bw := bufio.NewWriterSize(cw, 1<<20)
	_, err = layer.Archive(ctx, dir, bw)
	if err == nil {
		err = bw.Flush()
	}
	sum := h.Sum()
	if cerr := spool.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, errTooLarge) {
		return Layer{}, errs.New(errs.Invalid, "the layer is over %d bytes, the most a snapshot of this box may hold (its disk size)", maxBytes)
	}
	if err != nil {
		return Layer{}, fmt.Errorf("archive layer: %w", err)
	}
	hx := hex.EncodeToString(sum)
	start := time.Now()
	if err := l.cfg.Blobs.PutFile(ctx, blobKey(hx), spool.Name()); err != nil {
		return Layer{}, fmt.Errorf("store layer sha256:%s: %w", hx, err)
	}
	l.log.Info("layer stored", "digest", "sha256:"+hx, "bytes", cw.n, "store", l.cfg.Blobs.String(), "took", time.Since(start).Round(time.Millisecond))
	final := l.cached(hx)
	if err := os.Rename(dir, final); err != nil {
		// The same layer is cached already (or is being fetched): keep that.
		l.Discard(dir)
	}
	return Layer{Digest: "sha256:" + hx, Size: cw.n}, nil
}

var errTooLarge = errors.New("layer too large")

type countWriter struct {
	w   io.Writer
	n   int64
	max int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.max > 0 && c.n+int64(len(p)) > c.max {
		return 0, errTooLarge
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Path returns the cached directory of a layer, fetching it from the blob
// store and unpacking it first if it is not cached. The archive's digest
// is checked as it is unpacked, and a layer whose archive does not match
// is refused (an errs.Internal that says so) and never cached or used.
// Concurrent calls for one layer share one fetch.
func (l *Layers) Path(ctx context.Context, digest string) (string, error) {
	hx, err := parseDigest(digest)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "bad layer digest")
	}
	p := l.cached(hx)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	l.mu.Lock()
	f := l.fetching[hx]
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		l.fetching[hx] = f
		go func() {
			// Not ctx: other callers may wait for this fetch.
			f.path, f.err = l.fetch(context.WithoutCancel(ctx), hx)
			l.mu.Lock()
			delete(l.fetching, hx)
			l.mu.Unlock()
			close(f.done)
		}()
	}
	l.mu.Unlock()
	select {
	case <-f.done:
		return f.path, f.err
	case <-ctx.Done():
		return "", errs.Wrap(errs.Unavailable, ctx.Err(), "request cancelled while layer %s was fetched", digest)
	}
}

func (l *Layers) fetch(ctx context.Context, hx string) (string, error) {
	digest := "sha256:" + hx
	start := time.Now()
	rc, err := l.cfg.Blobs.Open(ctx, blobKey(hx))
	if errs.Is(err, errs.NotFound) {
		return "", errs.New(errs.Internal, "layer %s is missing from the blob store %s", digest, l.cfg.Blobs)
	}
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "layer %s could not be read from the blob store", digest)
	}
	defer rc.Close()
	tmp := l.WorkDir("fetch")
	h := newAsyncHash()
	tee := io.TeeReader(bufio.NewReaderSize(rc, 1<<20), h)
	xerr := layer.Extract(ctx, tee, tmp)
	if xerr != nil {
		// Hash the rest, to tell a corrupt archive from another failure.
		_, _ = io.Copy(io.Discard, tee)
	}
	got := hex.EncodeToString(h.Sum())
	if got != hx {
		l.Discard(tmp)
		l.log.Error("layer is corrupt: refused", "digest", digest, "content_digest", "sha256:"+got, "store", l.cfg.Blobs.String())
		if l.cfg.Corrupt != nil {
			l.cfg.Corrupt(digest)
		}
		return "", errs.New(errs.Internal, "layer %s is corrupt in the blob store (its content hashes to sha256:%s); it was not used", digest, got)
	}
	if xerr != nil {
		l.Discard(tmp)
		return "", fmt.Errorf("unpack layer %s: %w", digest, xerr)
	}
	p := l.cached(hx)
	if err := os.Rename(tmp, p); err != nil {
		l.Discard(tmp)
		if _, serr := os.Stat(p); serr != nil {
			return "", fmt.Errorf("cache layer %s: %w", digest, err)
		}
	}
	l.log.Info("layer fetched", "digest", digest, "took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// Merge flattens the captured layer top, stacked on the layers below
// (digests, uppermost first), into a new work directory and returns it.
func (l *Layers) Merge(ctx context.Context, top string, below []string) (string, error) {
	dirs := []string{top}
	for _, d := range below {
		p, err := l.Path(ctx, d)
		if err != nil {
			return "", err
		}
		dirs = append(dirs, p)
	}
	out := l.WorkDir("merge")
	if err := layer.Merge(ctx, out, dirs); err != nil {
		l.Discard(out)
		return "", fmt.Errorf("merge layers: %w", err)
	}
	return out, nil
}

// Remove deletes a layer's archive and its cached directory. Removing a
// missing layer is harmless.
func (l *Layers) Remove(ctx context.Context, digest string) error {
	hx, err := parseDigest(digest)
	if err != nil {
		return err
	}
	if err := l.cfg.Blobs.Delete(ctx, blobKey(hx)); err != nil {
		return err
	}
	return l.uncache(hx)
}

func (l *Layers) uncache(hx string) error {
	// Moved aside first, so that no one finds a half-removed layer.
	trash := l.WorkDir("trash")
	if err := os.Rename(l.cached(hx), trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.RemoveAll(trash)
}

// GC removes the archives and cached directories of layers that keep
// does not name (digests). Call it when no Commit is under way, such as
// at startup: it frees what a crash between storing a layer and recording
// its snapshot left behind.
func (l *Layers) GC(ctx context.Context, keep map[string]bool) error {
	var errsOut []error
	entries, err := os.ReadDir(filepath.Join(l.cfg.Dir, "sha256"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !keep["sha256:"+e.Name()] {
			l.log.Info("removing unreferenced cached layer", "digest", "sha256:"+e.Name())
			errsOut = append(errsOut, l.uncache(e.Name()))
		}
	}
	keys, err := l.cfg.Blobs.List(ctx, "layers/sha256/")
	if err != nil {
		return errors.Join(append(errsOut, err)...)
	}
	for _, k := range keys {
		hx := strings.TrimSuffix(strings.TrimPrefix(k, "layers/sha256/"), ".tar")
		if !keep["sha256:"+hx] {
			l.log.Info("removing unreferenced layer archive", "key", k)
			errsOut = append(errsOut, l.cfg.Blobs.Delete(ctx, k))
		}
	}
	return errors.Join(errsOut...)
}
