package layer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// settle is how long an entry must have gone unchanged (by its ctime)
// before a copy taken while its tree is live can be trusted. The kernel
// stamps ctime from a clock that lags real time by at most one tick (1 to
// 10 ms), so any change made after we read an entry's ctime moves it to a
// later value, as long as the ctime we read is older than a tick. The
// margin is generous; what it costs is that entries changed within it are
// copied again while the tree is frozen.
const settle = 50 * time.Millisecond

// CopyStats describes one CopyConsistent.
type CopyStats struct {
	// Entries is the number of entries in the copy.
	Entries int
	// Bytes is the data copied in all passes.
	Bytes int64
	// FrozenEntries and FrozenBytes are what the last pass, the one
	// between freeze and thaw, copied.
	FrozenEntries int
	FrozenBytes   int64
	// Frozen is the time from the start of freeze to the end of thaw.
	Frozen time.Duration
}

// CopyConsistent copies the directory tree src, which is live (something
// may be changing it), into the new directory dst, so that dst ends up
// exactly as src was at one instant. It copies everything while src is
// live, then once more whatever changed meanwhile, then calls freeze
// (which must stop every writer of src), copies again only what changed
// since, and calls thaw. The freeze is thus as short as a walk of the tree
// plus whatever changed in the last moments. thaw is called whenever
// freeze succeeded, even if the copy fails or ctx ends. A nil freeze means
// src is not changing (its writers are already stopped).
func CopyConsistent(ctx context.Context, src, dst string, freeze, thaw func(context.Context) error) (CopyStats, error) {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return CopyStats{}, err
	}
	c := &capture{src: src, dst: dst, entries: map[string]*copied{}}
	for live := 1; ; live++ {
		if err := c.pass(ctx, false); err != nil {
			return c.stats, err
		}
		if c.unsettled == 0 || live == 2 {
			break
		}
		// Wait for entries changed just now to settle, once.
		if wait := time.Until(c.settleAt); wait > 0 {
			select {
			case <-ctx.Done():
				return c.stats, ctx.Err()
			case <-time.After(min(wait, settle)):
			}
		}
	}
	var start time.Time
	if freeze != nil {
		start = time.Now()
		if err := freeze(ctx); err != nil {
			return c.stats, fmt.Errorf("freeze: %w", err)
		}
	}
	before := c.stats.Bytes
	err := c.pass(ctx, true)
	if freeze != nil {
		if terr := thaw(context.WithoutCancel(ctx)); terr != nil {
			err = errors.Join(err, fmt.Errorf("thaw: %w", terr))
		}
		c.stats.Frozen = time.Since(start)
	}
	c.stats.FrozenBytes = c.stats.Bytes - before
	c.stats.Entries = len(c.entries)
	return c.stats, err
}

// copied is what dst holds of one entry of src.
type copied struct {
	st unix.Stat_t
	// valid: the copy matches st (it was made from a settled entry, or
	// while src was frozen). An invalid copy is made again.
	valid bool
}

type capture struct {
	src, dst string
	entries  map[string]*copied
	// unsettled counts entries the last pass left for later because they
	// had just changed; settleAt is when the last of them settles.
	unsettled int
	settleAt  time.Time
	stats     CopyStats
}

// pass brings dst up to date with src. A live pass (final false) skips
// files changed too recently to copy reliably; the final pass, made while
// src is frozen, copies everything that changed, removes what is gone,
// and sets directory times.
func (c *capture) pass(ctx context.Context, final bool) error {
	c.unsettled, c.settleAt = 0, time.Time{}
	seen := make(map[string]bool, len(c.entries))
	links := map[uint64]string{} // inode -> path in this pass, for hard links
	err := walk(c.src, func(rel string, st *unix.Stat_t, at time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if isSock(st) {
			return nil
		}
		seen[rel] = true
		old := c.entries[rel]
		hardlinked := isReg(st) && st.Nlink > 1
		if old != nil && old.valid && sameStat(&old.st, st) && !hardlinked {
			return nil
		}
		// A ctime older than settle before the stat can only change to a
		// later value: if it is still the same later, so is the entry.
		ctime := time.Unix(st.Ctim.Unix())
		settled := ctime.Before(at.Add(-settle))
		if !final && !settled && !isDir(st) {
			c.unsettled++
			if at := ctime.Add(settle); at.After(c.settleAt) {
				c.settleAt = at
			}
			if old != nil {
				old.valid = false
			}
			return nil
		}
		if final {
			c.stats.FrozenEntries++
		}
		if err := c.copyEntry(rel, st, old, links); err != nil {
			if !final && changedMeanwhile(err) {
				// Replaced or removed while copied: a later pass sees it.
				c.unsettled++
				c.settleAt = time.Now().Add(settle)
				if err := c.forget(rel); err != nil {
					return err
				}
				return errSkipDir
			}
			return fmt.Errorf("copy %s: %w", rel, err)
		}
		c.entries[rel] = &copied{st: *st, valid: final || settled}
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.removeGone(seen); err != nil {
		return err
	}
	if final {
		return c.setDirTimes()
	}
	return nil
}

// copyEntry makes dst's copy of rel match st, replacing an older copy.
func (c *capture) copyEntry(rel string, st *unix.Stat_t, old *copied, links map[uint64]string) error {
	src, dst := filepath.Join(c.src, rel), filepath.Join(c.dst, rel)
	if isDir(st) {
		if old != nil && !isDir(&old.st) {
			if err := removeAll(dst); err != nil {
				return err
			}
			old = nil
		}
		if old == nil {
			if err := os.Mkdir(dst, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		}
		xa, err := xattrs(src)
		if err != nil {
			return err
		}
		return setMeta(dst, st, xa)
	}
	if old != nil {
		if err := removeAll(dst); err != nil {
			return err
		}
	}
	if isReg(st) && st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			return os.Link(filepath.Join(c.dst, first), dst)
		}
		links[st.Ino] = rel
	}
	n, err := makeNode(src, dst, st)
	c.stats.Bytes += n
	return err
}

// changedMeanwhile reports whether a copy failed because the source
// entry changed under it (which a live pass expects).
func changedMeanwhile(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) ||
		errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EISDIR)
}

// forget removes dst's copy of rel and of what is under it, and what is
// known of them, so that a later pass copies them afresh.
func (c *capture) forget(rel string) error {
	prefix := rel + "/"
	for name := range c.entries {
		if name == rel || strings.HasPrefix(name, prefix) {
			delete(c.entries, name)
		}
	}
	return removeAll(filepath.Join(c.dst, rel))
}

// removeGone removes from dst what is no longer in src, children first.
func (c *capture) removeGone(seen map[string]bool) error {
	var gone []string
	for rel := range c.entries {
		if !seen[rel] {
			gone = append(gone, rel)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(gone)))
	for _, rel := range gone {
		if err := removeAll(filepath.Join(c.dst, rel)); err != nil {
			return err
		}
		delete(c.entries, rel)
	}
	return nil
}

// setDirTimes gives every directory of dst its source's mtime.
func (c *capture) setDirTimes() error {
	mtimes := map[string]unix.Timespec{}
	for rel, e := range c.entries {
		if isDir(&e.st) {
			mtimes[rel] = e.st.Mtim
		}
	}
	return setDirTimesUnder(c.dst, mtimes)
}

// sameStat reports whether two stats of one path show no change.
func sameStat(a, b *unix.Stat_t) bool {
	return a.Ino == b.Ino && a.Mode == b.Mode && a.Uid == b.Uid && a.Gid == b.Gid &&
		a.Size == b.Size && a.Nlink == b.Nlink && a.Rdev == b.Rdev &&
		a.Mtim == b.Mtim && a.Ctim == b.Ctim
}
