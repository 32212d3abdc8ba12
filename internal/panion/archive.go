package panion

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
)

// readArchive serves GET /v1/archive?path=P: a tar stream of P, a file,
// symlink or directory tree. Entry names start with P's base name (for /
// they start with "./"); symlinks are stored as links and never followed;
// sockets, FIFOs and devices are left out, and so are directories of
// kernel file systems (proc, sysfs, cgroup) below P.
func (s *Server) readArchive(w http.ResponseWriter, r *http.Request) {
	root, err := pathParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fi, err := os.Lstat(root)
	if err != nil {
		s.fail(w, r, fsError(root, err))
		return
	}
	if _, ok := tarType(fi.Mode()); !ok {
		s.fail(w, r, errs.New(errs.Invalid, "%s is a %s; only files, directories and symlinks can be archived", root, fi.Mode().Type()))
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	a := &archiver{tw: tar.NewWriter(writerOnly{w}), root: root, base: filepath.Base(root),
		links: map[fileID]string{}, buf: make([]byte, copyBufSize)}
	if root == "/" {
		a.base = "."
	}
	err = a.tree()
	if err == nil {
		err = a.tw.Close()
	}
	if err != nil {
		// The status is sent: abort the response so the client sees a
		// broken body, never an archive that merely looks complete.
		s.log.Warn("archive aborted", "path", root, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// fileID names an inode, to store hard links once.
type fileID struct{ dev, ino uint64 }

// archiver writes one tree as a tar stream.
type archiver struct {
	tw    *tar.Writer
	root  string // absolute and clean
	base  string // the name of root in the archive
	links map[fileID]string
	buf   []byte
}

// tree walks the root without following symlinks. Entries that vanish
// during the walk are left out; any other error ends it.
func (a *archiver) tree() error {
	rootDev := uint64(0)
	return filepath.WalkDir(a.root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if p == a.root && st != nil {
			rootDev = uint64(st.Dev)
		}
		if d.IsDir() && p != a.root && st != nil && uint64(st.Dev) != rootDev && kernelFS(p) {
			return fs.SkipDir
		}
		rel, err := filepath.Rel(a.root, p)
		if err != nil {
			return err
		}
		return a.entry(p, path.Join(a.base, filepath.ToSlash(rel)), fi, st)
	})
}

// entry writes the header of one file and, for a regular file, its bytes.
func (a *archiver) entry(p, name string, fi fs.FileInfo, st *syscall.Stat_t) error {
	typ, ok := tarType(fi.Mode())
	if !ok {
		return nil // sockets, FIFOs, devices
	}
	hdr := &tar.Header{Typeflag: typ, Name: name, Mode: int64(unixMode(fi.Mode())), ModTime: fi.ModTime()}
	if st != nil {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	}
	switch typ {
	case tar.TypeDir:
		hdr.Name += "/"
	case tar.TypeSymlink:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		hdr.Linkname = target
	case tar.TypeReg:
		hdr.Size = fi.Size()
		if st != nil && st.Nlink > 1 {
			id := fileID{uint64(st.Dev), st.Ino}
			if first, seen := a.links[id]; seen {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				a.links[id] = name
			}
		}
	}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	return a.contents(p, hdr.Size)
}

// contents copies exactly size bytes of the regular file p: a file that
// shrank since it was listed is padded with zeros and one that grew is
// cut, as tar does, so one busy log file does not fail a whole copy.
func (a *archiver) contents(p string, size int64) error {
	// O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a FIFO
	// since the walk saw it is not followed, and cannot hang the agent.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	var n int64
	if err == nil {
		defer f.Close()
		if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() {
			n, err = io.CopyBuffer(a.tw, io.LimitReader(f, size), a.buf)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ELOOP) {
		return err
	}
	_, err = io.CopyBuffer(a.tw, io.LimitReader(zeros{}, size-n), a.buf)
	return err
}

// tarType is the tar entry type of a file mode, for the kinds an archive
// holds.
func tarType(m fs.FileMode) (byte, bool) {
	switch {
	case m.IsRegular():
		return tar.TypeReg, true
	case m.IsDir():
		return tar.TypeDir, true
	case m&fs.ModeSymlink != 0:
		return tar.TypeSymlink, true
	}
	return 0, false
}

// kernelFS reports whether dir is the root of a kernel file system whose
// files are not data (and may be endless), such as /proc.
func kernelFS(dir string) bool {
	var sfs unix.Statfs_t
	if unix.Statfs(dir, &sfs) != nil {
		return false
	}
	switch sfs.Type {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC,
		unix.DEBUGFS_MAGIC, unix.TRACEFS_MAGIC, unix.SECURITYFS_MAGIC, unix.BPF_FS_MAGIC:
		return true
	}
	return false
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
