package cli

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// writeTar writes the tree at dir as a tar stream whose entries start
// with top ("top/", "top/a.txt", ...). Modes, mtimes and symlinks (as
// links) are kept; sockets, FIFOs and devices are left out.
func writeTar(w io.Writer, dir, top string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(top, filepath.ToSlash(rel))
		var link string
		switch {
		case info.Mode().IsRegular(), info.IsDir():
		case info.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return nil // a socket, FIFO or device: not copied
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = name
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", "" // the box applies its own owner
		h.ModTime = info.ModTime().Truncate(time.Second)
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(tw, f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// extractTar writes the entries of a tar stream from a box under dir,
// renaming its top entry (the first one's name) to newTop. Entries cannot
// leave dir, through ".." or symlinks (os.Root sees to that). Regular
// files are written to a temporary file and renamed into place; the modes
// and mtimes of directories are set once their contents are in.
func extractTar(r io.Reader, dir, newTop string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var top string
	type dirMeta struct {
		name  string
		mode  fs.FileMode
		mtime time.Time
	}
	var dirs []dirMeta
	for first := true; ; first = false {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if first {
			top = strings.TrimSuffix(h.Name, "/")
		}
		name, err := renameTop(h.Name, top, newTop)
		if err != nil {
			return err
		}
		mode := fileMode(uint32(h.Mode))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMeta{name, mode, h.ModTime})
		case tar.TypeReg:
			if err := writeRootFile(root, name, tr, mode, h.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			target, err := renameTop(h.Linkname, top, newTop)
			if err != nil {
				return err
			}
			if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := root.Link(target, name); err != nil {
				return err
			}
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if err := root.Chmod(d.name, d.mode); err != nil {
			return err
		}
		if err := root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

// renameTop maps an entry name under top to one under newTop, and checks
// that it stays local.
func renameTop(name, top, newTop string) (string, error) {
	name = strings.TrimSuffix(name, "/")
	var out string
	switch {
	case name == top:
		out = newTop
	case strings.HasPrefix(name, top+"/"):
		out = path.Join(newTop, name[len(top)+1:])
	default:
		return "", fmt.Errorf("archive entry %q is not under %q", name, top)
	}
	out = path.Clean(out)
	if !filepath.IsLocal(filepath.FromSlash(out)) && out != "." {
		return "", fmt.Errorf("archive entry %q would leave the destination", name)
	}
	return filepath.FromSlash(out), nil
}

// writeRootFile writes r to name under root through a temporary file, with
// mode and mtime.
func writeRootFile(root *os.Root, name string, r io.Reader, mode fs.FileMode, mtime time.Time) error {
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".hog-tmp")
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Chtimes(tmp, mtime, mtime)
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp) // best effort; the error below is what matters
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
