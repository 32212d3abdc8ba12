package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// templates keeps one freshly formatted, sparse ext4 image per disk size.
// A box's disk is a sparse copy of its size's template: copying the ~4 MB
// of metadata is faster than running mkfs.ext4 for every box.
type templates struct {
	dir string
	mu  sync.Mutex
}

// get returns the template of gib GiB, formatting it the first time.
func (t *templates) get(ctx context.Context, gib int64) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := filepath.Join(t.dir, fmt.Sprintf("ext4-%dg.img", gib))
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tmp := p + ".tmp"
	_ = os.Remove(tmp)
	if err := formatExt4(ctx, tmp, gib<<30); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", err
	}
	return p, nil
}

// formatExt4 makes a sparse file of size bytes holding an empty ext4. Lazy
// inode table and journal init keep it sparse: a new sparse file reads as
// zeros, so there is nothing to zero. No blocks are reserved for root, as
// the box's user is root anyway.
func formatExt4(ctx context.Context, path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	f.Close()
	if err != nil {
		return err
	}
	mkfs, err := findProgram("mkfs.ext4")
	if err != nil {
		return fmt.Errorf("mkfs.ext4 not found (install e2fsprogs): %w", err)
	}
	out, err := exec.CommandContext(ctx, mkfs, "-q", "-F", "-m", "0",
		"-E", "lazy_itable_init=1,lazy_journal_init=1", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkfs.ext4: %w: %s", err, out)
	}
	return nil
}

// copySparse copies src to a new file dst, keeping holes: a reflink where
// the filesystem can, else only the data extents found with SEEK_DATA.
func copySparse(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err == nil {
		return out.Close()
	}
	err = out.Truncate(fi.Size())
	if err == nil {
		err = copyExtents(in, out, fi.Size())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyExtents copies the data extents of in to the same offsets of out.
func copyExtents(in, out *os.File, size int64) error {
	var off int64
	for off < size {
		start, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole is left
		}
		if err != nil {
			return fmt.Errorf("seek data: %w", err)
		}
		end, err := unix.Seek(int(in.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("seek hole: %w", err)
		}
		if _, err := in.Seek(start, io.SeekStart); err != nil {
			return err
		}
		if _, err := out.Seek(start, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.CopyN(out, in, end-start); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// mountDisk loop-mounts the ext4 image at dir. The loop device detaches
// itself when dir is unmounted.
func mountDisk(image, dir string) error {
	dev, err := attachLoop(image)
	if err != nil {
		return fmt.Errorf("attach loop: %w", err)
	}
	// Closing the device after mounting (or failing to) leaves the mount
	// as its only user, so that autoclear detaches it on unmount.
	defer dev.Close()
	// noinit_itable: the inode tables of a sparse image are zero already.
	err = unix.Mount(dev.Name(), dir, "ext4", unix.MS_NOATIME, "noinit_itable")
	if err != nil {
		return fmt.Errorf("mount %s: %w", dev.Name(), err)
	}
	return nil
}
