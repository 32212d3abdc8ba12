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

	"golang.org/x/sys/unix"

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
	// size is the body's length when known (Content-Length), else -1: it
	// sizes the copy buffer.
	size int64
}

// writeBufSize is the copy buffer of a file write (smaller when the body
// is known to be smaller): a 64 MiB upload takes a few hundred reads and
// writes rather than thousands.
const writeBufSize = 256 << 10

// writebackEvery is how many bytes of a write may be dirty in the page
// cache before the agent starts their writeback, so that the final fsync
// finds little left to do; see hashWriter.
const writebackEvery = 4 << 20

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
	size, sum, err := copyHashed(tmp, body, opts)
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

// copyBuf is the copy buffer of a write of size bytes (-1: unknown).
func copyBuf(size int64) []byte {
	n := writeBufSize
	if size >= 0 && size < int64(n) {
		n = max(int(size), 512)
	}
	return make([]byte, n)
}

// copyHashed copies body into f, answering the size and hex SHA-256
// (empty with opts.noHash).
func copyHashed(f *os.File, body io.Reader, opts writeOptions) (int64, string, error) {
	hw := &hashWriter{f: f}
	if !opts.noHash {
		hw.h = sha256.New()
	}
	n, err := io.CopyBuffer(hw, body, copyBuf(opts.size))
	switch {
	case hw.err != nil:
		return 0, "", fsError(opts.path, hw.err)
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
//
// Every writebackEvery bytes it starts the writeback of the bytes written
// since the last time, so that the disk works while the body still
// arrives and the final fsync only waits for the tail (in the bench, 64
// MiB arriving over 300 ms: 50-70 ms of fsync after the last byte
// without this, 10-20 ms with it). The call is
// posix_fadvise(POSIX_FADV_DONTNEED), which starts the writeback of a
// range's dirty pages without waiting for it, then drops the range's clean
// pages only (pages still being written stay cached). Unlike
// sync_file_range, which overlayfs (a box's root) does not pass on to the
// real file, it works there.
type hashWriter struct {
	f         *os.File
	h         hash.Hash
	err       error
	off, sent int64 // bytes written; bytes whose writeback was started
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if w.h != nil {
		w.h.Write(p[:n])
	}
	if err != nil {
		w.err = err
	}
	w.off += int64(n)
	if w.off-w.sent >= writebackEvery {
		w.startWriteback()
	}
	return n, err
}

// startWriteback starts the writeback of the bytes written since the last
// call. It is advice: errors are ignored, the final fsync reports them.
func (w *hashWriter) startWriteback() {
	off, n := w.sent, w.off-w.sent
	w.sent = w.off
	if rc, err := w.f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), off, n, unix.FADV_DONTNEED) })
	}
}
