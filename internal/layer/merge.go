package layer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Merge flattens layers (uppermost first, as overlayfs lists lowerdirs)
// into the new directory dst, a single layer that shows the same tree
// when stacked on what lies below them. Overlay rules apply: an upper
// entry replaces a lower one, a whiteout deletes a lower path (and stays,
// to hide it in what lies below too), and an opaque directory hides the
// lower directory's children (and stays opaque). The layers must not
// change meanwhile.
func Merge(ctx context.Context, dst string, layers []string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	m := &merger{dst: dst, dirTimes: map[string]unix.Timespec{}}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := m.apply(ctx, layers[i]); err != nil {
			return err
		}
	}
	return setDirTimesUnder(dst, m.dirTimes)
}

type merger struct {
	dst      string
	dirTimes map[string]unix.Timespec // mtime of each merged directory, from its uppermost layer
}

// apply lays one layer over dst.
func (m *merger) apply(ctx context.Context, layer string) error {
	links := map[uint64]string{}
	return walk(layer, func(rel string, st *unix.Stat_t, _ time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if isSock(st) {
			return nil
		}
		src, dst := filepath.Join(layer, rel), filepath.Join(m.dst, rel)
		have, err := lstat(dst)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !isDir(st) {
			if have != nil {
				if err := removeAll(dst); err != nil {
					return err
				}
				m.forget(rel)
			}
			if isReg(st) && st.Nlink > 1 {
				if first, ok := links[st.Ino]; ok {
					return os.Link(filepath.Join(m.dst, first), dst)
				}
				links[st.Ino] = rel
			}
			_, err := makeNode(src, dst, st)
			return err
		}
		return m.applyDir(src, dst, rel, st, have)
	})
}

// applyDir lays the directory src over dst (whose lstat is have, or nil).
func (m *merger) applyDir(src, dst, rel string, st, have *unix.Stat_t) error {
	xa, err := xattrs(src)
	if err != nil {
		return err
	}
	switch {
	case have == nil:
	case !isDir(have):
		if err := removeAll(dst); err != nil {
			return err
		}
		have = nil
	case xa[OpaqueXattr] != nil:
		// Opaque: what lower layers held here is hidden.
		if err := clearDir(dst); err != nil {
			return err
		}
		m.forget(rel)
	default:
		// A merged directory stays opaque if a lower layer made it so.
		if v, err := getxattr(dst, OpaqueXattr); err == nil {
			if xa == nil {
				xa = map[string][]byte{}
			}
			xa[OpaqueXattr] = v
		}
	}
	if have == nil {
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
	}
	m.dirTimes[rel] = st.Mtim
	return setMeta(dst, st, xa)
}

// forget drops the recorded directory times of rel and what is under it
// (removed).
func (m *merger) forget(rel string) {
	delete(m.dirTimes, rel)
	prefix := rel + "/"
	for name := range m.dirTimes {
		if strings.HasPrefix(name, prefix) {
			delete(m.dirTimes, name)
		}
	}
}

// clearDir removes everything inside dir, keeping dir.
func clearDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}
