package layer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OpaqueXattr marks a directory that hides what lower layers hold at its
// path.
const OpaqueXattr = "trusted.overlay.opaque"

// keepXattr says whether an extended attribute belongs to the layer's
// content. Overlayfs's other trusted.overlay.* attributes describe the
// mount that wrote the upper dir (copy-up origins, impure dirs) and would
// mislead a later mount that stacks the layer as a lower dir.
func keepXattr(name string) bool {
	if strings.HasPrefix(name, "trusted.overlay.") {
		return name == OpaqueXattr
	}
	return true
}

func isDir(st *unix.Stat_t) bool  { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
func isReg(st *unix.Stat_t) bool  { return st.Mode&unix.S_IFMT == unix.S_IFREG }
func isLink(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFLNK }
func isSock(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFSOCK }

func lstat(p string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	return &st, nil
}

// xattrs returns the extended attributes of p worth keeping, without
// following a symlink.
func xattrs(p string) (map[string][]byte, error) {
	size, err := unix.Llistxattr(p, nil)
	if errors.Is(err, unix.ENOTSUP) || size == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "listxattr", Path: p, Err: err}
	}
	buf := make([]byte, size)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, &fs.PathError{Op: "listxattr", Path: p, Err: err}
	}
	out := map[string][]byte{}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" || !keepXattr(name) {
			continue
		}
		v, err := getxattr(p, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func getxattr(p, name string) ([]byte, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Lgetxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) && size < 1<<20 {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "getxattr " + name, Path: p, Err: err}
		}
		return buf[:n], nil
	}
}

// setMeta gives p the owner, mode, extended attributes and (unless a
// directory, whose times are set once its children are in place) times of
// st. Owner first: chown clears set-id bits and file capabilities.
func setMeta(p string, st *unix.Stat_t, xa map[string][]byte) error {
	if err := unix.Lchown(p, int(st.Uid), int(st.Gid)); err != nil {
		return &fs.PathError{Op: "chown", Path: p, Err: err}
	}
	if !isLink(st) {
		if err := unix.Chmod(p, st.Mode&0o7777); err != nil {
			return &fs.PathError{Op: "chmod", Path: p, Err: err}
		}
	}
	if err := setXattrs(p, xa); err != nil {
		return err
	}
	if isDir(st) {
		return nil
	}
	return setTimes(p, st.Mtim)
}

// setXattrs makes p's kept extended attributes exactly xa.
func setXattrs(p string, xa map[string][]byte) error {
	have, err := xattrs(p)
	if err != nil {
		return err
	}
	for name := range have {
		if _, ok := xa[name]; !ok {
			if err := unix.Lremovexattr(p, name); err != nil && !errors.Is(err, unix.ENODATA) {
				return &fs.PathError{Op: "removexattr " + name, Path: p, Err: err}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(xa)) {
		if err := unix.Lsetxattr(p, name, xa[name], 0); err != nil {
			return &fs.PathError{Op: "setxattr " + name, Path: p, Err: err}
		}
	}
	return nil
}

func setTimes(p string, mtime unix.Timespec) error {
	ts := []unix.Timespec{mtime, mtime}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimes", Path: p, Err: err}
	}
	return nil
}

// setDirTimesUnder gives each directory under root (relative names) its
// mtime, children first: adding entries to a directory changes its mtime.
func setDirTimesUnder(root string, mtimes map[string]unix.Timespec) error {
	names := slices.Sorted(maps.Keys(mtimes))
	slices.Reverse(names)
	for _, name := range names {
		if err := setTimes(filepath.Join(root, name), mtimes[name]); err != nil {
			return err
		}
	}
	return nil
}

// makeNode creates dst as a copy of the non-directory src (whose lstat is
// st): a regular file with src's data, a symlink, a device or a fifo. dst
// must not exist. It returns the data bytes copied.
func makeNode(src, dst string, st *unix.Stat_t) (int64, error) {
	var n int64
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		var err error
		if n, err = copyFile(src, dst); err != nil {
			return 0, err
		}
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return 0, err
		}
		if err := os.Symlink(target, dst); err != nil {
			return 0, err
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return 0, &fs.PathError{Op: "mknod", Path: dst, Err: err}
		}
	default:
		return 0, fmt.Errorf("%s: unsupported file type %#o", src, st.Mode&unix.S_IFMT)
	}
	xa, err := xattrs(src)
	if err != nil {
		return 0, err
	}
	return n, setMeta(dst, st, xa)
}

// copyFile copies the regular file src to a new file dst, keeping holes.
func copyFile(src, dst string) (int64, error) {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := copyData(in, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// copyData copies in to out (both at offset 0), skipping the holes of in
// so that a sparse file stays sparse. It returns the data bytes copied.
func copyData(in, out *os.File) (int64, error) {
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	var off, copied int64
	for off < size {
		start, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // a hole up to the end
		}
		if errors.Is(err, unix.EINVAL) { // no SEEK_DATA here: copy it all
			if _, err := in.Seek(0, io.SeekStart); err != nil {
				return 0, err
			}
			return io.Copy(out, in)
		}
		if err != nil {
			return copied, fmt.Errorf("seek data: %w", err)
		}
		end, err := unix.Seek(int(in.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return copied, fmt.Errorf("seek hole: %w", err)
		}
		if _, err := in.Seek(start, io.SeekStart); err != nil {
			return copied, err
		}
		if _, err := out.Seek(start, io.SeekStart); err != nil {
			return copied, err
		}
		n, err := io.CopyN(out, in, end-start)
		copied += n
		if err != nil && !errors.Is(err, io.EOF) { // EOF: truncated meanwhile
			return copied, err
		}
		off = end
	}
	// The size of the file as it is now (it may have changed meanwhile;
	// a caller that needs an exact copy compares stats afterwards).
	fi, err = in.Stat()
	if err != nil {
		return copied, err
	}
	return copied, out.Truncate(fi.Size())
}

// walkFunc is called with an entry's path relative to the walk's root
// (slash-separated), its lstat, and the time just before that lstat.
type walkFunc func(rel string, st *unix.Stat_t, at time.Time) error

// errSkipDir, returned by a walkFunc, skips what is under the entry.
var errSkipDir = errors.New("skip directory")

// walk calls fn for every entry under root (not root itself), parents
// before children, siblings in lexical order. An entry that vanishes
// while being walked is skipped.
func walk(root string, fn walkFunc) error {
	return walkDir(root, "", fn)
}

func walkDir(root, rel string, fn walkFunc) error {
	f, err := os.Open(filepath.Join(root, rel))
	if err == nil {
		var names []string
		names, err = f.Readdirnames(-1)
		f.Close()
		if err == nil {
			return walkNames(root, rel, names, fn)
		}
	}
	if rel != "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR)) {
		return nil // vanished or replaced while walked
	}
	return err
}

func walkNames(root, rel string, names []string, fn walkFunc) error {
	sort.Strings(names)
	for _, name := range names {
		child := name
		if rel != "" {
			child = rel + "/" + name
		}
		at := time.Now()
		st, err := lstat(filepath.Join(root, child))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(child, st, at); errors.Is(err, errSkipDir) {
			continue
		} else if err != nil {
			return err
		}
		if isDir(st) {
			if err := walkDir(root, child, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeAll removes p and anything under it; a missing p is fine.
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if errors.Is(err, unix.ENOTDIR) {
		return nil // a parent is no longer a directory: p is gone
	}
	return err
}
