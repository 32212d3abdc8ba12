package panion

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// writeArchive serves PUT /v1/archive?path=DIR&mkdir=true: it extracts
// the tar stream of the body into DIR. Errors may be answered before the
// body is read; see drainBody.
func (s *Server) writeArchive(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	defer drainBody(rc, r)
	dir, err := pathParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mkdir, err := boolParam(r, "mkdir", false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := prepareDir(dir, mkdir); err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := extract(dir, r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// extract unpacks the tar stream body into the existing directory dir.
// Every entry must stay inside dir: names that are absolute or have a
// ".." part are refused, and so is any path that would leave dir through
// a symlink (os.Root resolves every path). Devices and FIFOs are refused.
// Existing files are replaced; a directory is never replaced by a file.
// Modes (with setuid, setgid, sticky) and mtimes are kept; the files
// belong to the agent's user. Extraction stops at the first error, and
// what was extracted before it stays.
func extract(dir string, body io.Reader) (api.ArchiveInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return api.ArchiveInfo{}, fsError(dir, err)
	}
	defer root.Close()
	x := &extractor{root: root, dir: dir, buf: make([]byte, copyBufSize)}
	x.info.Path = dir
	tr := tar.NewReader(body)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x.info, errs.Wrap(errs.Invalid, err, "bad tar stream after %d entries: %v", x.entries, err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return x.info, err
		}
		x.entries++
	}
	return x.info, x.finishDirs()
}

// extractor holds the state of one extraction.
type extractor struct {
	root    *os.Root
	dir     string
	info    api.ArchiveInfo
	entries int
	dirs    []dirMeta // set by finishDirs
	buf     []byte
}

// dirMeta is the mode and mtime a directory gets at the end: a read-only
// directory must stay writable while it is filled, and every file written
// into it changes its mtime.
type dirMeta struct {
	name  string
	mode  os.FileMode
	mtime time.Time
}

func (x *extractor) entry(hdr *tar.Header, body io.Reader) error {
	name, err := entryName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." && hdr.Typeflag != tar.TypeDir {
		return errs.New(errs.Invalid, "tar entry %q names the target directory itself but is not a directory", hdr.Name)
	}
	if name != "." {
		if err := x.root.MkdirAll(path.Dir(name), 0o755); err != nil {
			return x.fail(name, err)
		}
	}
	mode := fileMode(uint32(hdr.Mode) & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.mkdir(name, mode, hdr.ModTime)
	case tar.TypeReg, tar.TypeGNUSparse:
		return x.file(name, mode, hdr.ModTime, body)
	case tar.TypeSymlink:
		return x.symlink(name, hdr.Linkname)
	case tar.TypeLink:
		return x.hardlink(name, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return errs.New(errs.Invalid, "tar entry %q is a device node; device nodes cannot be extracted in a box", hdr.Name)
	case tar.TypeFifo:
		return errs.New(errs.Invalid, "tar entry %q is a FIFO; FIFOs cannot be extracted (make it with mkfifo)", hdr.Name)
	}
	return errs.New(errs.Invalid, "tar entry %q has type %q, which cannot be extracted", hdr.Name, hdr.Typeflag)
}

// entryName is the cleaned, slash-separated name of an entry relative to
// the target directory ("." for the directory itself).
func entryName(raw string) (string, error) {
	switch {
	case raw == "":
		return "", errs.New(errs.Invalid, "tar entry with an empty name")
	case strings.ContainsRune(raw, 0):
		return "", errs.New(errs.Invalid, "tar entry name %q contains a NUL byte", raw)
	case strings.HasPrefix(raw, "/"):
		return "", errs.New(errs.Invalid, "tar entry %q has an absolute name; entries must be relative to the target directory", raw)
	}
	if slices.Contains(strings.Split(raw, "/"), "..") {
		return "", errs.New(errs.Invalid, "tar entry %q has a '..' part; entries must stay inside the target directory", raw)
	}
	return path.Clean(raw), nil
}

// makeWay makes way for a new non-directory at name: it removes whatever
// non-directory is there, and refuses to replace a directory.
func (x *extractor) makeWay(name string) error {
	fi, err := x.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return x.fail(name, err)
	case fi.IsDir():
		return errs.New(errs.Invalid, "%s is a directory in the box; a tar entry that is not one cannot replace it", x.path(name))
	}
	if err := x.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return x.fail(name, err)
	}
	return nil
}

func (x *extractor) mkdir(name string, mode os.FileMode, mtime time.Time) error {
	fi, err := x.root.Lstat(name)
	switch {
	case err == nil && fi.IsDir():
	case err == nil || errors.Is(err, fs.ErrNotExist):
		// A file or a symlink in the way is replaced, never followed.
		if err := x.makeWay(name); err != nil {
			return err
		}
		if err := x.root.Mkdir(name, (mode|0o700)&0o777); err != nil {
			return x.fail(name, err)
		}
	default:
		return x.fail(name, err)
	}
	x.dirs = append(x.dirs, dirMeta{name: name, mode: mode, mtime: mtime})
	x.info.Dirs++
	return nil
}

func (x *extractor) file(name string, mode os.FileMode, mtime time.Time, body io.Reader) error {
	if err := x.makeWay(name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return x.fail(name, err)
	}
	n, err := io.CopyBuffer(writerOnly{f}, body, x.buf)
	if err != nil {
		f.Close()
		var pe *os.PathError
		if errors.As(err, &pe) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return x.fail(name, err)
		}
		return errs.Wrap(errs.Invalid, err, "bad tar stream in the contents of %s: %v", name, err)
	}
	// fchmod: the umask does not apply, and setuid/setgid/sticky stay.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return x.fail(name, err)
	}
	if err := f.Close(); err != nil {
		return x.fail(name, err)
	}
	if err := x.root.Chtimes(name, mtime, mtime); err != nil {
		return x.fail(name, err)
	}
	x.info.Files++
	x.info.Bytes += n
	return nil
}

func (x *extractor) symlink(name, target string) error {
	if target == "" || strings.ContainsRune(target, 0) {
		return errs.New(errs.Invalid, "tar entry %q is a symlink with a bad target %q", name, target)
	}
	if err := x.makeWay(name); err != nil {
		return err
	}
	if err := x.root.Symlink(target, name); err != nil {
		return x.fail(name, err)
	}
	x.info.Symlinks++
	return nil
}

func (x *extractor) hardlink(name, target string) error {
	old, err := entryName(target)
	if err != nil {
		return err
	}
	if err := x.makeWay(name); err != nil {
		return err
	}
	if err := x.root.Link(old, name); err != nil {
		return x.fail(name, err)
	}
	x.info.Files++
	return nil
}

// finishDirs gives every extracted directory its mode and mtime, once
// nothing more is written into them.
func (x *extractor) finishDirs() error {
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if err := x.root.Chmod(d.name, d.mode|os.ModeDir); err != nil {
			return x.fail(d.name, err)
		}
		if err := x.root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return x.fail(d.name, err)
		}
	}
	return nil
}

// path is name in the box, for messages.
func (x *extractor) path(name string) string { return path.Join(x.dir, name) }

// fail explains an error about name. os.Root fails without an errno only
// when a path would leave the target directory through a symlink, which
// is the client's fault; errnos map as for files.
func (x *extractor) fail(name string, err error) error {
	var errno syscall.Errno
	var pe *os.PathError
	if !errors.As(err, &errno) && errors.As(err, &pe) {
		return errs.Wrap(errs.Invalid, err, "tar entry %q leads out of %s through a symlink; entries must stay inside the target directory", name, x.dir)
	}
	return fsError(x.path(name), err)
}
