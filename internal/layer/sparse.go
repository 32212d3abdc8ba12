package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A regular file with holes is archived as the data of its extents only,
// with two PAX records of this package's own (archive/tar writes no
// GNU sparse headers): HOGLAND.sparse.map lists "offset:length" extents
// in increasing order, comma-separated, and HOGLAND.sparse.size is the
// file's size. The entry's size is the sum of the extents' lengths.
const (
	paxSparseMap  = "HOGLAND.sparse.map"
	paxSparseSize = "HOGLAND.sparse.size"
)

// extent is a run of data in a file.
type extent struct{ off, len int64 }

// sparseHeader finds the data extents of the regular file p (hdr.Size
// bytes). A file with holes gets the sparse PAX records and hdr.Size is
// set to its data bytes; the extents to archive are returned either way.
func sparseHeader(p string, hdr *tar.Header) ([]extent, error) {
	size := hdr.Size
	whole := []extent{{0, size}}
	if size == 0 {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []extent
	var data int64
	for off := int64(0); off < size; {
		start, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if errors.Is(err, unix.EINVAL) {
			return whole, nil // no SEEK_DATA on this filesystem
		}
		if err != nil {
			return nil, fmt.Errorf("seek data %s: %w", p, err)
		}
		end, err := unix.Seek(int(f.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("seek hole %s: %w", p, err)
		}
		end = min(end, size)
		if start >= end {
			break
		}
		out = append(out, extent{start, end - start})
		data += end - start
		off = end
	}
	if data == size {
		return whole, nil
	}
	var m strings.Builder
	for i, e := range out {
		if i > 0 {
			m.WriteByte(',')
		}
		fmt.Fprintf(&m, "%d:%d", e.off, e.len)
	}
	if hdr.PAXRecords == nil {
		hdr.PAXRecords = map[string]string{}
	}
	hdr.PAXRecords[paxSparseMap] = m.String()
	hdr.PAXRecords[paxSparseSize] = strconv.FormatInt(size, 10)
	hdr.Size = data
	return out, nil
}

// parseSparse returns the extents and size of a regular file entry: its
// sparse map when it has one, else one extent of the whole entry.
func parseSparse(hdr *tar.Header) ([]extent, int64, error) {
	m, ok := hdr.PAXRecords[paxSparseMap]
	if !ok {
		return []extent{{0, hdr.Size}}, hdr.Size, nil
	}
	size, err := strconv.ParseInt(hdr.PAXRecords[paxSparseSize], 10, 64)
	if err != nil || size < 0 {
		return nil, 0, fmt.Errorf("bad %s %q", paxSparseSize, hdr.PAXRecords[paxSparseSize])
	}
	var out []extent
	var next, data int64
	for _, part := range strings.Split(m, ",") {
		if part == "" {
			continue
		}
		o, l, ok := strings.Cut(part, ":")
		off, err1 := strconv.ParseInt(o, 10, 64)
		n, err2 := strconv.ParseInt(l, 10, 64)
		if !ok || err1 != nil || err2 != nil || off < next || n <= 0 || off > size-n {
			return nil, 0, fmt.Errorf("bad sparse map entry %q", part)
		}
		out = append(out, extent{off, n})
		next, data = off+n, data+n
	}
	if data != hdr.Size {
		return nil, 0, fmt.Errorf("sparse map holds %d bytes, entry %d", data, hdr.Size)
	}
	return out, size, nil
}
