package panion

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// tempPrefix starts the name of every temp file of an atomic write.
const tempPrefix = ".hogpanion-tmp-"

// writeOptions says where and how atomicWrite writes.
type writeOptions struct {
	path  string // absolute and clean
	mode  os.FileMode
	mkdir bool // create missing parent directories (0755)
	// noHash skips the SHA-256 (the answer's sha256 is empty): the host
	// hashes the bytes as they pass, outside the box's CPU limit.
	noHash bool
}

// atomicWrite replaces the file at opts.path with body: it writes a temp
// file in the same directory, fsyncs it, sets its mode, renames it over the
// target and fsyncs the directory. Readers see the old file or the new one,
// never a mix; on any failure the temp file is removed and the old file is
// left as it was. A symlink at the path is followed to its target.
func atomicWrite(opts writeOptions, body io.Reader) (api.FileInfo, error) {
	target, err := writeTarget(opts.path)
	if err != nil {
		return api.FileInfo{}, err
	}
	dir := filepath.Dir(target)
	if err := prepareDir(dir, opts.mkdir); err != nil {
		return api.FileInfo{}, err
	}
	tmp, err := createTemp(dir)
	if err != nil {
		return api.FileInfo{}, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	size, sum, err := copyHashed(tmp, body, opts.path, !opts.noHash)
	if err != nil {
		return api.FileInfo{}, err
	}
	if err := finishTemp(tmp, opts.mode); err != nil {
		return api.FileInfo{}, fsError(opts.path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return api.FileInfo{}, fsError(opts.path, err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return api.FileInfo{}, errs.Wrap(errs.Internal, err, "%s was written but its directory could not be synced", opts.path)
	}
	return api.FileInfo{Path: opts.path, Size: size, SHA256: sum, Mode: fmt.Sprintf("%04o", unixMode(opts.mode))}, nil
}

// writeTarget is the file a write to path replaces: path itself, or the
// target of the symlink at path. A directory there is an error.
func writeTarget(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if resolved, rerr := filepath.EvalSymlinks(path); rerr == nil {
			path = resolved
			fi, err = os.Lstat(path)
		}
	}
	switch {
	case err == nil && fi.IsDir():
		return "", errs.New(errs.Invalid, "%s is a directory", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fsError(path, err)
	}
	return path, nil
}

// prepareDir makes sure dir exists, creating it when mkdir.
func prepareDir(dir string, mkdir bool) error {
	if mkdir {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fsError(dir, err)
		}
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errs.New(errs.NotFound, "directory %s does not exist; pass mkdir=true to create it", dir)
	case err != nil:
		return fsError(dir, err)
	case !st.IsDir():
		return errs.New(errs.Invalid, "%s is not a directory", dir)
	}
	return nil
}

// createTemp makes a new, empty temp file in dir with a random name.
func createTemp(dir string) (*os.File, error) {
	b := make([]byte, 8)
	for range 10 {
		_, _ = rand.Read(b)
		name := filepath.Join(dir, tempPrefix+hex.EncodeToString(b))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fsError(dir, err)
		}
		return f, nil
	}
	return nil, errs.New(errs.Internal, "cannot make a temp file in %s", dir)
}

// copyHashed copies body into f, answering the size and hex SHA-256.
func copyHashed(f *os.File, body io.Reader, path string, hashed bool) (int64, string, error) {
	hw := &hashWriter{f: f}
	if hashed {
		hw.h = sha256.New()
	}
	n, err := io.CopyBuffer(hw, body, make([]byte, copyBufSize))
	switch {
	case hw.err != nil:
		return 0, "", fsError(path, hw.err)
	case err != nil:
		return 0, "", errs.Wrap(errs.Invalid, err, "reading the request body: %v", err)
	}
	if hw.h == nil {
		return n, "", nil
	}
	return n, hex.EncodeToString(hw.h.Sum(nil)), nil
}

// finishTemp sets the mode (fchmod: the umask does not apply), fsyncs and
// closes f.
func finishTemp(f *os.File, mode os.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hashWriter writes to f and hashes what was written, keeping f's error.
type hashWriter struct {
	f   *os.File
	h   hash.Hash
	err error
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if w.h != nil {
		w.h.Write(p[:n])
	}
	if err != nil {
		w.err = err
	}
	return n, err
}
