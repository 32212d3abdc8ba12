package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("layers hold whiteouts (mknod) and trusted.* xattrs: needs root")
	}
}

// tree describes every entry under root, one line each, in a form two
// equal trees share: type, mode, owner, size, mtime, content hash, link
// target, device, kept xattrs, and hard-link groups.
func tree(t testing.TB, root string) string {
	t.Helper()
	var lines []string
	inodes := map[uint64]string{}
	err := walk(root, func(rel string, st *unix.Stat_t, _ time.Time) error {
		p := filepath.Join(root, rel)
		line := fmt.Sprintf("%s %o %d:%d", rel, st.Mode, st.Uid, st.Gid)
		switch {
		case isReg(st):
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			line += fmt.Sprintf(" size=%d sha=%s", st.Size, hex.EncodeToString(sum[:6]))
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					line += " link=" + first
				} else {
					inodes[st.Ino] = rel
				}
			}
		case isLink(st):
			target, _ := os.Readlink(p)
			line += " -> " + target
		case st.Mode&unix.S_IFMT == unix.S_IFCHR:
			line += fmt.Sprintf(" dev=%d", st.Rdev)
		}
		line += fmt.Sprintf(" mtime=%d", st.Mtim.Nano())
		xa, err := xattrs(p)
		if err != nil {
			return err
		}
		var names []string
		for k := range xa {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			line += fmt.Sprintf(" %s=%q", k, xa[k])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t testing.TB, p, data string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
}

// sample fills dir with one of everything a layer can hold.
func sample(t testing.TB, dir string) {
	t.Helper()
	write(t, dir+"/etc/app.conf", "setting=1\n")
	write(t, dir+"/usr/lib/pkg/mod.py", "print('hi')\n")
	write(t, dir+"/usr/bin/tool", "#!/bin/sh\necho tool\n")
	must(t, os.Chmod(dir+"/usr/bin/tool", 0o4755))
	must(t, os.Chown(dir+"/usr/lib/pkg/mod.py", 1000, 1001))
	must(t, os.Symlink("../lib/pkg/mod.py", dir+"/usr/bin/mod"))
	must(t, os.Link(dir+"/usr/bin/tool", dir+"/usr/bin/tool2"))
	must(t, unix.Mknod(dir+"/etc/deleted", unix.S_IFCHR, 0))                      // whiteout
	must(t, unix.Mkfifo(dir+"/etc/fifo", 0o600))                                  // fifo
	must(t, os.MkdirAll(dir+"/var/cache/opaque/sub", 0o750))                      // opaque dir
	must(t, unix.Setxattr(dir+"/var/cache/opaque", OpaqueXattr, []byte("y"), 0))  // kept
	must(t, unix.Setxattr(dir+"/etc/app.conf", "user.note", []byte("a\x00b"), 0)) // kept, binary
	must(t, unix.Setxattr(dir+"/etc/app.conf", "trusted.overlay.origin", nil, 0)) // dropped
	f, err := os.Create(dir + "/var/sparse")
	must(t, err)
	must(t, f.Truncate(64<<20))
	_, err = f.WriteAt([]byte("end"), 64<<20-3)
	must(t, err)
	must(t, f.Close())
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	must(t, os.Chtimes(dir+"/etc/app.conf", mtime, mtime))
	must(t, os.Chtimes(dir+"/usr/lib", mtime, mtime))
}

func TestArchiveExtractRoundTrip(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	sample(t, src)
	var buf bytes.Buffer
	n, err := Archive(ctx, src, &buf)
	must(t, err)
	if n != 17 {
		t.Errorf("archived %d entries, want 17", n)
	}
	// The same tree archives to the same bytes.
	var again bytes.Buffer
	_, err = Archive(ctx, src, &again)
	must(t, err)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("archiving twice gave different bytes")
	}
	dst := filepath.Join(t.TempDir(), "dst")
	must(t, Extract(ctx, bytes.NewReader(buf.Bytes()), dst))
	want := strings.ReplaceAll(tree(t, src), ` trusted.overlay.origin=""`, "")
	if got := tree(t, dst); got != want {
		t.Errorf("extracted tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
	// The 64 MiB sparse file stays sparse, in the archive and out.
	if buf.Len() > 1<<20 {
		t.Errorf("archive is %d bytes: holes were archived as data", buf.Len())
	}
	var st unix.Stat_t
	must(t, unix.Stat(dst+"/var/sparse", &st))
	if st.Blocks*512 > 1<<20 {
		t.Errorf("sparse file extracted with %d bytes allocated", st.Blocks*512)
	}
}

func TestExtractRefusesBadArchives(t *testing.T) {
	requireRoot(t)
	cases := map[string][]tar.Header{
		"parent escape":   {{Name: "../evil", Typeflag: tar.TypeReg}},
		"absolute":        {{Name: "/etc/passwd", Typeflag: tar.TypeReg}},
		"unclean":         {{Name: "a/../b", Typeflag: tar.TypeReg}},
		"no parent entry": {{Name: "a/b", Typeflag: tar.TypeReg}},
		"through symlink": {{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "/"}, {Name: "a/x", Typeflag: tar.TypeReg}},
		"twice":           {{Name: "a", Typeflag: tar.TypeReg}, {Name: "a", Typeflag: tar.TypeReg}},
		"dangling link":   {{Name: "a", Typeflag: tar.TypeLink, Linkname: "nothing"}},
		"link to dir":     {{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "a", Typeflag: tar.TypeLink, Linkname: "d"}},
	}
	for name, hdrs := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range hdrs {
				h.ModTime = time.Now()
				must(t, tw.WriteHeader(&h))
			}
			must(t, tw.Close())
			dir := filepath.Join(t.TempDir(), "x")
			if err := Extract(context.Background(), &buf, dir); err == nil {
				t.Fatalf("extracted without error:\n%s", tree(t, dir))
			}
			if _, err := os.Lstat("/evil"); err == nil {
				t.Fatal("wrote outside the layer")
			}
		})
	}
}

func TestCopyConsistentQuiet(t *testing.T) {
	requireRoot(t)
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	sample(t, src)
	// Old enough to be settled: the live passes copy it, the frozen one
	// only walks.
	old := time.Now().Add(-time.Minute)
	must(t, os.Chtimes(src+"/var/sparse", old, old))
	time.Sleep(2 * settle)
	dst := filepath.Join(t.TempDir(), "dst")
	var froze, thawed atomic.Int32
	st, err := CopyConsistent(context.Background(), src, dst,
		func(context.Context) error { froze.Add(1); return nil },
		func(context.Context) error { thawed.Add(1); return nil })
	must(t, err)
	if froze.Load() != 1 || thawed.Load() != 1 {
		t.Errorf("froze %d times, thawed %d", froze.Load(), thawed.Load())
	}
	// Hard-linked files are always taken again while frozen.
	if st.FrozenEntries != 2 || st.Entries != 17 {
		t.Errorf("stats %+v: want 2 entries copied while frozen of 17", st)
	}
	want := strings.ReplaceAll(tree(t, src), ` trusted.overlay.origin=""`, "")
	if got := tree(t, dst); got != want {
		t.Errorf("copy differs:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// TestCopyConsistentUnderWrites copies a tree that a writer keeps
// changing (writes, renames, deletes, dirs replaced by files) until the
// freeze: the copy must be the tree as it was at the freeze.
func TestCopyConsistentUnderWrites(t *testing.T) {
	requireRoot(t)
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	sample(t, src)
	var mu sync.Mutex // held by the writer for each change; the freeze takes it
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			p := fmt.Sprintf("%s/hot/%d", src, i%7)
			_ = os.MkdirAll(src+"/hot", 0o755)
			switch i % 5 {
			case 0:
				_ = os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, i%4096), 0o644)
			case 1:
				_ = os.Rename(p, p+".moved")
			case 2:
				_ = os.RemoveAll(p)
				_ = os.MkdirAll(p+"/inner", 0o700)
			case 3:
				_ = os.RemoveAll(p)
				_ = os.WriteFile(p, []byte("was a dir"), 0o600)
			case 4:
				f, err := os.OpenFile(src+"/etc/app.conf", os.O_WRONLY|os.O_APPEND, 0)
				if err == nil {
					fmt.Fprintf(f, "line %d\n", i)
					f.Close()
				}
			}
			mu.Unlock()
		}
	}()
	time.Sleep(30 * time.Millisecond)
	var want string
	dst := filepath.Join(t.TempDir(), "dst")
	_, err := CopyConsistent(context.Background(), src, dst,
		func(context.Context) error {
			mu.Lock()
			want = tree(t, src)
			return nil
		},
		func(context.Context) error {
			mu.Unlock()
			return nil
		})
	close(stop)
	<-done
	must(t, err)
	want = strings.ReplaceAll(want, ` trusted.overlay.origin=""`, "")
	if got := tree(t, dst); got != want {
		t.Errorf("copy is not the tree at the freeze:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// overlay mounts layers (uppermost first) read-only, or with upper and
// work dirs when upper is not empty, and returns the mount point.
func overlay(t testing.TB, layers []string, upper string) string {
	t.Helper()
	mnt := t.TempDir()
	data := "lowerdir=" + strings.Join(layers, ":")
	if upper != "" {
		work := filepath.Join(filepath.Dir(upper), "work")
		must(t, os.MkdirAll(work, 0o700))
		data += ",upperdir=" + upper + ",workdir=" + work
	}
	flags := uintptr(0)
	if upper == "" {
		flags = unix.MS_RDONLY
	}
	if err := unix.Mount("overlay", mnt, "overlay", flags, data); err != nil {
		t.Skipf("cannot mount overlayfs here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mnt, unix.MNT_DETACH) })
	return mnt
}

func sh(t testing.TB, dir, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// TestLayersThroughOverlay changes a tree through a real overlay mount,
// captures the upper dir, archives and extracts it, and checks that the
// extracted layer stacked on the same lower shows the same tree: deletions
// (whiteouts) stay deleted and replaced directories (opaque) stay
// replaced. Then it stacks a second layer on the first, and checks Merge.
func TestLayersThroughOverlay(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	base := t.TempDir()
	lower := filepath.Join(base, "lower")
	must(t, os.Mkdir(lower, 0o755))
	sample(t, lower)
	write(t, lower+"/var/cache/full/a", "a")
	write(t, lower+"/var/cache/full/b", "b")

	// Layer 1: delete, replace a dir, add, modify.
	up1 := filepath.Join(base, "1", "upper")
	must(t, os.MkdirAll(up1, 0o755))
	m1 := overlay(t, []string{lower}, up1)
	sh(t, m1, `rm etc/app.conf; rm -r var/cache/full; mkdir var/cache/full; echo new > var/cache/full/c
		echo added > etc/added; echo more >> usr/bin/tool; mkdir -p opt/pkg/lib; echo lib > opt/pkg/lib/x.so`)
	want1 := tree(t, m1)
	l1 := extracted(t, up1)
	if got := tree(t, overlay(t, []string{l1, lower}, "")); got != want1 {
		t.Fatalf("layer 1 on lower differs:\n got:\n%s\nwant:\n%s", got, want1)
	}

	// Layer 2 on top of layer 1: delete what layer 1 added, re-add what
	// it deleted, replace a file by a dir.
	up2 := filepath.Join(base, "2", "upper")
	must(t, os.MkdirAll(up2, 0o755))
	m2 := overlay(t, []string{l1, lower}, up2)
	sh(t, m2, `rm etc/added; echo back > etc/app.conf; rm -r opt/pkg; rm usr/bin/mod; mkdir usr/bin/mod; echo d > usr/bin/mod/f`)
	want2 := tree(t, m2)
	l2 := extracted(t, up2)
	if got := tree(t, overlay(t, []string{l2, l1, lower}, "")); got != want2 {
		t.Fatalf("layers 2+1 on lower differ:\n got:\n%s\nwant:\n%s", got, want2)
	}
	merged := filepath.Join(base, "merged")
	must(t, Merge(ctx, merged, []string{l2, l1}))
	if got := tree(t, overlay(t, []string{merged, lower}, "")); got != want2 {
		t.Fatalf("merged layer on lower differs:\n got:\n%s\nwant:\n%s", got, want2)
	}
}

// extracted captures the (quiet) upper dir, archives and extracts it, and
// returns the extracted layer.
func extracted(t testing.TB, upper string) string {
	t.Helper()
	ctx := context.Background()
	base := t.TempDir()
	capt := filepath.Join(base, "capture")
	_, err := CopyConsistent(ctx, upper, capt, nil, nil)
	must(t, err)
	var buf bytes.Buffer
	_, err = Archive(ctx, capt, &buf)
	must(t, err)
	out := filepath.Join(base, "layer")
	must(t, Extract(ctx, &buf, out))
	return out
}
