// Package fsuse measures how much of a file system a directory tree holds.
package fsuse

import (
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Allocated is the space allocated to dir and everything under it that sits
// on dir's own file system: sparse files count only their written blocks,
// and file systems mounted inside the tree are not counted. Unlike the free
// space of the whole file system, it does not move with what other
// processes write beside dir.
func Allocated(dir string) (int64, error) {
	var root unix.Stat_t
	if err := unix.Lstat(dir, &root); err != nil {
		return 0, err
	}
	var total int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		if st.Dev != root.Dev {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		total += st.Blocks * 512
		return nil
	})
	return total, err
}
