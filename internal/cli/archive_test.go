package cli

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTarRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	mtime := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "sub", "deep"), 0o755))
	must(os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o750))
	must(os.WriteFile(filepath.Join(src, "sub", "deep", "data"), []byte("data"), 0o600))
	must(os.WriteFile(filepath.Join(src, "suid"), []byte("x"), 0o755))
	must(os.Chmod(filepath.Join(src, "suid"), 0o755|fs.ModeSetuid))
	must(os.Symlink("sub/deep/data", filepath.Join(src, "link")))
	must(os.Chmod(filepath.Join(src, "sub"), 0o711))
	must(os.Chtimes(filepath.Join(src, "run.sh"), mtime, mtime))

	var buf bytes.Buffer
	must(writeTar(&buf, src, "copy"))
	dst := t.TempDir()
	must(extractTar(&buf, dst, "renamed"))

	check := func(rel string, mode fs.FileMode, content string) {
		t.Helper()
		p := filepath.Join(dst, "renamed", rel)
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", rel, st.Mode(), mode)
		}
		if content != "" {
			b, err := os.ReadFile(p)
			if err != nil || string(b) != content {
				t.Errorf("%s: %q, %v", rel, b, err)
			}
		}
	}
	check("run.sh", 0o750, "#!/bin/sh\n")
	check("sub", fs.ModeDir|0o711, "")
	check("sub/deep/data", 0o600, "data")
	check("suid", 0o755|fs.ModeSetuid, "x")
	check("link", fs.ModeSymlink|0o777, "data")
	if st, err := os.Stat(filepath.Join(dst, "renamed", "run.sh")); err != nil || !st.ModTime().Equal(mtime) {
		t.Errorf("mtime %v, want %v (%v)", st.ModTime(), mtime, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dst, "renamed", ".*.hog-tmp")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestExtractTarStaysInside feeds archives a hostile box could send.
func TestExtractTarStaysInside(t *testing.T) {
	type entry struct {
		name, link string
		typ        byte
	}
	cases := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"dot-dot", []entry{{"top/", "", tar.TypeDir}, {"top/../../evil", "", tar.TypeReg}}, "would leave the destination"},
		{"outside the top", []entry{{"top/", "", tar.TypeDir}, {"other/evil", "", tar.TypeReg}}, `archive entry "other/evil" is not under "top"`},
		{"through a symlink", []entry{{"top/", "", tar.TypeDir}, {"top/l", "/", tar.TypeSymlink}, {"top/l/tmp/evil", "", tar.TypeReg}}, "path escapes from parent"},
		{"hard link out", []entry{{"top/", "", tar.TypeDir}, {"top/h", "/etc/passwd", tar.TypeLink}}, "is not under"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range c.entries {
				h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644}
				if e.typ == tar.TypeReg {
					h.Size = 4
				}
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				if e.typ == tar.TypeReg {
					tw.Write([]byte("evil"))
				}
			}
			tw.Close()
			parent := t.TempDir()
			dst := filepath.Join(parent, "dst")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			err := extractTar(&buf, dst, "top")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
			if m, _ := filepath.Glob(filepath.Join(parent, "evil")); len(m) > 0 {
				t.Errorf("wrote outside: %v", m)
			}
		})
	}
}
