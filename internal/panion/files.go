package panion

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/PostHog/hogland/internal/errs"
)

// copyBufSize is the buffer of file reads and archive copies (writes
// have writeBufSize): memory per transfer is constant whatever the file
// size.
const copyBufSize = 64 << 10

// readFile serves GET /v1/files?path=P: the file's bytes until EOF, so
// files whose stat size lies (/proc, /sys) come out whole.
func (s *Server) readFile(w http.ResponseWriter, r *http.Request) {
	path, err := pathParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// O_NONBLOCK: opening a FIFO must not hang; it is refused below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		s.fail(w, r, fsError(path, err))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		s.fail(w, r, fsError(path, err))
		return
	case st.IsDir():
		s.fail(w, r, errs.New(errs.Invalid, "%s is a directory", path))
		return
	case !st.Mode().IsRegular():
		s.fail(w, r, errs.New(errs.Invalid, "%s is not a regular file (%s)", path, st.Mode().Type()))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	buf := make([]byte, copyBufSize)
	if _, err := io.CopyBuffer(writerOnly{w}, f, buf); err != nil {
		// The status is sent: abort the response so the client sees a
		// broken body, not a short file.
		s.log.Warn("read file aborted", "path", path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// writeFile serves PUT /v1/files?path=P&mode=0644&mkdir=true.
// Errors may be answered before the body is read; see drainBody.
func (s *Server) writeFile(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	defer drainBody(rc, r)
	path, err := pathParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mode, err := modeParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mkdir, err := boolParam(r, "mkdir", false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hashed, err := boolParam(r, "hash", true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := atomicWrite(writeOptions{path: path, mode: mode, mkdir: mkdir, noHash: !hashed, size: r.ContentLength}, r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// pathParam is the absolute, cleaned path parameter.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	switch {
	case p == "":
		return "", errs.New(errs.Invalid, "path is required")
	case !filepath.IsAbs(p):
		return "", errs.New(errs.Invalid, "path %q must be absolute", p)
	case strings.ContainsRune(p, 0):
		return "", errs.New(errs.Invalid, "path contains a NUL byte")
	}
	return filepath.Clean(p), nil
}

// modeParam reads an octal mode such as 0644 or 755 (default 0644).
func modeParam(r *http.Request) (os.FileMode, error) {
	s := r.URL.Query().Get("mode")
	if s == "" {
		return 0o644, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, errs.New(errs.Invalid, "mode must be octal permission bits such as 0644, not %q", s)
	}
	return fileMode(uint32(n)), nil
}

// fileMode converts Unix mode bits to an os.FileMode.
func fileMode(n uint32) os.FileMode {
	m := os.FileMode(n & 0o777)
	if n&syscall.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if n&syscall.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if n&syscall.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}

// unixMode converts an os.FileMode back to Unix mode bits.
func unixMode(m os.FileMode) uint32 {
	n := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		n |= syscall.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		n |= syscall.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		n |= syscall.S_ISVTX
	}
	return n
}

// fsError turns a file system error about path into an *errs.Error.
func fsError(path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return errs.Wrap(errs.Internal, err, "%s: %v", path, err)
	}
	switch errno {
	case syscall.ENOENT:
		return errs.Wrap(errs.NotFound, err, "%s does not exist", path)
	case syscall.EACCES, syscall.EPERM, syscall.EROFS:
		return errs.Wrap(errs.PermissionDenied, err, "%s: %v", path, errno)
	case syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG:
		return errs.Wrap(errs.TooLarge, err, "%s: %v", path, errno)
	case syscall.EISDIR:
		return errs.Wrap(errs.Invalid, err, "%s is a directory", path)
	case syscall.ENOTDIR:
		return errs.Wrap(errs.Invalid, err, "a parent of %s is not a directory", path)
	case syscall.ENAMETOOLONG, syscall.ELOOP, syscall.EINVAL, syscall.ENXIO:
		return errs.Wrap(errs.Invalid, err, "%s: %v", path, errno)
	}
	return errs.Wrap(errs.Internal, err, "%s: %v", path, errno)
}

// writerOnly hides a ResponseWriter's ReadFrom, so the copy goes through
// our buffer (sendfile cannot read most /proc files).
type writerOnly struct{ io.Writer }
