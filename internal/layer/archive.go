package layer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const xattrPrefix = "SCHILY.xattr."

// Archive writes the layer in dir to w as a tar stream in the format the
// package doc describes, and returns the number of entries. dir must not
// change meanwhile.
func Archive(ctx context.Context, dir string, w io.Writer) (int, error) {
	tw := tar.NewWriter(w)
	links := map[uint64]string{} // inode -> first name, for hard links
	n := 0
	err := walk(dir, func(rel string, st *unix.Stat_t, _ time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if isSock(st) {
			return nil
		}
		p := filepath.Join(dir, rel)
		hdr, err := header(p, rel, st)
		if err != nil {
			return err
		}
		if isReg(st) && st.Nlink > 1 {
			if first, ok := links[st.Ino]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[st.Ino] = rel
			}
		}
		var extents []extent
		if hdr.Typeflag == tar.TypeReg {
			if extents, err = sparseHeader(p, hdr); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archive %s: %w", rel, err)
		}
		n++
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		return copyInto(tw, p, extents)
	})
	if err != nil {
		return n, err
	}
	return n, tw.Close()
}

// header is the tar header of the entry at p (relative name rel).
func header(p, rel string, st *unix.Stat_t) (*tar.Header, error) {
	hdr := &tar.Header{
		Name:    rel,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()),
		Format:  tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case unix.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil, fmt.Errorf("archive %s: unsupported file type %#o", rel, st.Mode&unix.S_IFMT)
	}
	xa, err := xattrs(p)
	if err != nil {
		return nil, err
	}
	if len(xa) > 0 {
		hdr.PAXRecords = map[string]string{}
		for k, v := range xa {
			hdr.PAXRecords[xattrPrefix+k] = string(v)
		}
	}
	return hdr, nil
}

// copyInto writes the extents of the file at p to w. The layer must not
// change while it is archived: a file that did is an error rather than a
// short or long entry.
func copyInto(w io.Writer, p string, extents []extent) error {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, e := range extents {
		n, err := io.Copy(w, io.NewSectionReader(f, e.off, e.len))
		if err != nil {
			return fmt.Errorf("archive %s: %w", p, err)
		}
		if n != e.len {
			return fmt.Errorf("archive %s: file changed while archived (%d of %d bytes at %d)", p, n, e.len, e.off)
		}
	}
	return nil
}

// Extract unpacks a tar stream made by Archive into dir, which must not
// exist. It reads r to its end. On error, dir may hold part of the layer:
// the caller removes it.
func Extract(ctx context.Context, r io.Reader, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	x := &extractor{dir: dir, dirs: map[string]unix.Timespec{"": {}}, files: map[string]bool{}}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer archive: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return fmt.Errorf("extract %q: %w", hdr.Name, err)
		}
	}
	// Trailing bytes after the end-of-archive marker count too: a caller
	// that hashes the stream must see all of it.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return x.dirTimes()
}

type extractor struct {
	dir   string
	dirs  map[string]unix.Timespec // extracted directories' mtimes ("" is the root)
	files map[string]bool          // extracted regular files, for hard links
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	parent := path.Dir(name)
	if parent == "." {
		parent = ""
	}
	if _, ok := x.dirs[parent]; !ok {
		return errors.New("its parent directory is not an earlier entry")
	}
	if _, dup := x.dirs[name]; dup || x.files[name] {
		return errors.New("entry appears twice")
	}
	p := filepath.Join(x.dir, name)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		x.dirs[name] = unix.NsecToTimespec(hdr.ModTime.UnixNano())
	case tar.TypeReg:
		extents, size, err := parseSparse(hdr)
		if err != nil {
			return err
		}
		if err := writeFile(p, r, extents, size); err != nil {
			return err
		}
		x.files[name] = true
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil || !x.files[target] {
			return fmt.Errorf("hard link to %q, which is not an earlier regular file", hdr.Linkname)
		}
		if err := os.Link(filepath.Join(x.dir, target), p); err != nil {
			return err
		}
		x.files[name] = true
		return nil // shares the target's inode and metadata
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := uint32(unix.S_IFCHR)
		switch hdr.Typeflag {
		case tar.TypeBlock:
			mode = unix.S_IFBLK
		case tar.TypeFifo:
			mode = unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(p, mode|0o600, int(dev)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
	return setMeta(p, headerStat(hdr), headerXattrs(hdr))
}

// dirTimes sets every extracted directory's mtime (not the root's).
func (x *extractor) dirTimes() error {
	delete(x.dirs, "")
	return setDirTimesUnder(x.dir, x.dirs)
}

// cleanName checks an archive name is a clean relative path inside the
// layer, and returns it without a trailing slash.
func cleanName(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	if n == "" || path.IsAbs(n) || path.Clean(n) != n || n == "." || n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("name %q is not a clean relative path", name)
	}
	return n, nil
}

// writeFile makes the file p of size bytes from the extents' data in r.
func writeFile(p string, r io.Reader, extents []extent, size int64) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	for _, e := range extents {
		if err == nil {
			var n int64
			n, err = io.Copy(io.NewOffsetWriter(f, e.off), io.LimitReader(r, e.len))
			if err == nil && n != e.len {
				err = fmt.Errorf("short file: %d of %d bytes at %d", n, e.len, e.off)
			}
		}
	}
	if err == nil {
		err = f.Truncate(size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// headerStat is the part of a stat that setMeta uses, from a header.
func headerStat(hdr *tar.Header) *unix.Stat_t {
	st := &unix.Stat_t{Uid: uint32(hdr.Uid), Gid: uint32(hdr.Gid), Mode: uint32(hdr.Mode) & 0o7777}
	switch hdr.Typeflag {
	case tar.TypeDir:
		st.Mode |= unix.S_IFDIR
	case tar.TypeSymlink:
		st.Mode |= unix.S_IFLNK
	default:
		st.Mode |= unix.S_IFREG
	}
	st.Mtim = unix.NsecToTimespec(hdr.ModTime.UnixNano())
	return st
}

func headerXattrs(hdr *tar.Header) map[string][]byte {
	var xa map[string][]byte
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, xattrPrefix); ok && keepXattr(name) {
			if xa == nil {
				xa = map[string][]byte{}
			}
			xa[name] = []byte(v)
		}
	}
	return xa
}
