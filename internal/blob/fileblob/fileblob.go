// Package fileblob is a blob.Store in a local directory: each blob is the
// file DIR/KEY, written to a temporary file in DIR/.tmp, fsynced, and
// renamed into place (and its directory fsynced), so a blob that exists
// is whole and survives a crash. Temporary files a crash left behind are
// removed by New.
package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/PostHog/hogland/internal/blob"
	"github.com/PostHog/hogland/internal/errs"
)

// Store keeps blobs under a directory.
type Store struct {
	dir string
}

var _ blob.Store = (*Store)(nil)

// New opens (creating if needed) the store in dir and removes the
// temporary files of Puts that never finished. Only one process may use
// a directory at a time.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: abs}
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("fileblob: remove temporary files: %w", err)
	}
	if err := os.MkdirAll(s.tmpDir(), 0o700); err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) String() string { return "file://" + s.dir }

func (s *Store) tmpDir() string { return filepath.Join(s.dir, ".tmp") }

func (s *Store) path(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Put writes r to a temporary file, checks its size, fsyncs it and
// renames it to the key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if _, err := s.path(key); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmpDir(), "put-")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp := f.Name()
	n, err := io.Copy(f, &ctxReader{ctx: ctx, r: io.LimitReader(r, size+1)})
	if err == nil && n != size {
		err = fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.move(tmp, key)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutFile fsyncs the file at path and moves it to the key (copying it
// when it is on another filesystem).
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	if _, err := s.path(key); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	err = f.Sync()
	fi, serr := f.Stat()
	f.Close()
	if err = errors.Join(err, serr); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := s.move(path, key); err == nil {
		return nil
	} else if !errors.Is(err, errCrossDevice) {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, err = os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer f.Close()
	if err := s.Put(ctx, key, f, fi.Size()); err != nil {
		return err
	}
	return os.Remove(path)
}

var errCrossDevice = errors.New("cross-device move")

// move renames the durable file tmp to key and fsyncs its directory.
func (s *Store) move(tmp, key string) error {
	dst, _ := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		if errors.Is(err, syscall.EXDEV) {
			return errCrossDevice
		}
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens the blob's file.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New(errs.NotFound, "blob %s not found in %s", key, s)
	}
	return f, err
}

// Size stats the blob's file.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errs.New(errs.NotFound, "blob %s not found in %s", key, s)
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Delete removes the blob's file.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List walks the directory for keys under prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.tmpDir() {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) && blob.CheckKey(key) == nil {
			out = append(out, key)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ctxReader fails reads once ctx is done, so a long Put can be abandoned.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
