package panion_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// treeEntry is what a round trip must keep of one file.
type treeEntry struct {
	mode   fs.FileMode
	mtime  int64 // seconds
	data   string
	target string // of a symlink
}

// snapshotTree describes every file below dir, by relative path.
func snapshotTree(t testing.TB, dir string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := treeEntry{mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.target, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			e.data, e.mtime = string(b), fi.ModTime().Unix()
		case fi.IsDir() && rel != ".":
			e.mtime = fi.ModTime().Unix()
		}
		out[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// makeTree builds a tree with modes, an empty directory, a read-only
// directory, symlinks (one pointing out of the tree) and a hard link.
func makeTree(t testing.TB, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	must(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "ro", "inner"), 0o755))
	files := map[string]fs.FileMode{
		"a.txt": 0o640, "bin/run.sh": 0o755, "bin/suid": 0o4755, "ro/inner/deep.txt": 0o600, "ro/x": 0o444,
	}
	for name, mode := range files {
		p := filepath.Join(dir, name)
		must(os.WriteFile(p, []byte("contents of "+name+"\n"), 0o600))
		must(os.Chmod(p, mode))
		must(os.Chtimes(p, old, old))
	}
	must(os.Symlink("a.txt", filepath.Join(dir, "link")))
	must(os.Symlink("/etc/hostname", filepath.Join(dir, "outside")))
	must(os.Link(filepath.Join(dir, "a.txt"), filepath.Join(dir, "hard")))
	must(os.Chmod(filepath.Join(dir, "empty"), 0o700))
	must(os.Chmod(filepath.Join(dir, "ro"), 0o555))
	for _, d := range []string{"bin", "empty", "ro/inner", "ro"} {
		must(os.Chtimes(filepath.Join(dir, d), old, old))
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	makeTree(t, src)
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(src, "ro"), 0o755) })

	rc, err := a.c.ReadArchive(ctxT(t), src)
	if err != nil {
		t.Fatal(err)
	}
	tarball := readAll(t, rc)
	names := tarNames(t, tarball)
	if names[0] != "src/" {
		t.Errorf("first entry %q, want the root src/", names[0])
	}
	dst := filepath.Join(base, "out", "dst")
	info, err := a.c.WriteArchive(ctxT(t), dst, true, bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dst, "src", "ro"), 0o755) })
	// Files: a.txt, hard, run.sh, suid, deep.txt, x; dirs: src, bin, empty, ro, inner.
	if info.Path != dst || info.Files != 6 || info.Dirs != 5 || info.Symlinks != 2 {
		t.Errorf("info = %+v", info)
	}
	want, got := snapshotTree(t, src), snapshotTree(t, filepath.Join(dst, "src"))
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: got %+v (present %v), want %+v", name, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entries extracted, want %d", len(got), len(want))
	}
	var st1, st2 syscall.Stat_t
	if syscall.Lstat(filepath.Join(dst, "src", "a.txt"), &st1) != nil || syscall.Lstat(filepath.Join(dst, "src", "hard"), &st2) != nil || st1.Ino != st2.Ino {
		t.Error("the hard link was not kept as one")
	}

	// Extracting again over the same tree replaces the files.
	if _, err := a.c.WriteArchive(ctxT(t), dst, false, bytes.NewReader(tarball)); err != nil {
		t.Fatalf("second extraction: %v", err)
	}
}

func TestArchiveSingleFileAndErrors(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dir := t.TempDir()
	p := filepath.Join(dir, "one.txt")
	if err := os.WriteFile(p, []byte("one"), 0o751); err != nil {
		t.Fatal(err)
	}
	rc, err := a.c.ReadArchive(ctxT(t), p)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(readAll(t, rc)))
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "one.txt" || hdr.Mode != 0o751 || hdr.Size != 3 {
		t.Fatalf("entry %+v, %v", hdr, err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("more than one entry: %v", err)
	}

	_, err = a.c.ReadArchive(ctxT(t), filepath.Join(dir, "missing"))
	wantKind(t, err, errs.NotFound, "does not exist")
	_, err = a.c.ReadArchive(ctxT(t), "relative/path")
	wantKind(t, err, errs.Invalid, "must be absolute")
	_, err = a.c.WriteArchive(ctxT(t), filepath.Join(dir, "nodir"), false, bytes.NewReader(buildTar(t)))
	wantKind(t, err, errs.NotFound, "pass mkdir=true")
	_, err = a.c.WriteArchive(ctxT(t), p, false, bytes.NewReader(buildTar(t)))
	wantKind(t, err, errs.Invalid, "is not a directory")
	_, err = a.c.WriteArchive(ctxT(t), dir, false, strings.NewReader(strings.Repeat("not a tar ", 100)))
	wantKind(t, err, errs.Invalid, "bad tar stream")
}

// TestArchiveRefusesEscapes sends archives whose entries try to leave the
// target directory, and checks that nothing lands outside it.
func TestArchiveRefusesEscapes(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	file := func(name string) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: 5}
	}
	link := func(name, target string) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target}
	}
	cases := []struct {
		name    string
		entries []*tar.Header
		detail  string
	}{
		{"dotdot", []*tar.Header{file("../outside/evil")}, "'..'"},
		{"nested dotdot", []*tar.Header{file("a/../../outside/evil")}, "'..'"},
		{"absolute", []*tar.Header{file(outside + "/evil")}, "absolute"},
		{"through an absolute symlink", []*tar.Header{link("esc", outside), file("esc/evil")}, "leads out of"},
		{"through a relative symlink", []*tar.Header{link("esc", "../outside"), file("esc/evil")}, "leads out of"},
		{"symlink then directory in it", []*tar.Header{link("esc", outside), {Typeflag: tar.TypeDir, Name: "esc/sub/", Mode: 0o755}}, "leads out of"},
		{"hard link out", []*tar.Header{{Typeflag: tar.TypeLink, Name: "h", Linkname: "../outside/target"}}, "'..'"},
		{"device", []*tar.Header{{Typeflag: tar.TypeChar, Name: "null", Mode: 0o666, Devmajor: 1, Devminor: 3}}, "device node"},
		{"fifo", []*tar.Header{{Typeflag: tar.TypeFifo, Name: "pipe", Mode: 0o644}}, "FIFO"},
	}
	for i, c := range cases {
		dst := filepath.Join(base, "dst", string(rune('a'+i)))
		_, err := a.c.WriteArchive(ctxT(t), dst, true, bytes.NewReader(buildTar(t, c.entries...)))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Invalid || !strings.Contains(e.Detail, c.detail) {
			t.Errorf("%s: error %v, want invalid with %q", c.name, err, c.detail)
		}
	}
	// A symlink already in the target directory is not followed out either.
	dst := filepath.Join(base, "pre")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dst, "pre")); err != nil {
		t.Fatal(err)
	}
	_, err := a.c.WriteArchive(ctxT(t), dst, false, bytes.NewReader(buildTar(t, file("pre/evil"))))
	wantKind(t, err, errs.Invalid, "leads out of")
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files landed outside the target: %v", entries)
	}
}

// buildTar makes a tar stream of headers; regular files hold "hello"
// (their Size must be 5).
func buildTar(t testing.TB, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarNames lists the entry names of a tar stream, in order, checking that
// it is whole.
func tarNames(t testing.TB, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	if len(names) == 0 {
		t.Fatal("empty archive")
	}
	return names
}
