package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/mountinfo"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBusyboxBuildsAndIsReused(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("no /bin/busybox (install busybox-static)")
	}
	s := newTestStore(t)
	start := time.Now()
	root, err := s.Ensure(context.Background(), Busybox)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("busybox image built in %v", time.Since(start))
	checkBusybox(t, root)

	before, _ := os.Stat(filepath.Join(root, "bin/busybox"))
	again, err := s.Ensure(context.Background(), Busybox)
	if err != nil || again != root {
		t.Fatalf("second Ensure = %q, %v; want %q", again, err, root)
	}
	after, _ := os.Stat(filepath.Join(root, "bin/busybox"))
	if !os.SameFile(before, after) {
		t.Error("second Ensure rebuilt the image")
	}
	info := s.List()
	if len(info) != 2 || info[0].Name != Busybox || !info[0].Ready || info[1].Name != Debian {
		t.Errorf("List = %+v", info)
	}
}

func checkBusybox(t *testing.T, root string) {
	t.Helper()
	for _, p := range []string{"bin/sh", "bin/ls", "etc/passwd", "etc/group"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("image lacks %s: %v", p, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/tmp mode wrong: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(root, "root")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/root mode wrong: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("/ mode wrong: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "bin/busybox")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("bin/busybox is not a regular file: %v", err)
	}
}

func TestUnknownImage(t *testing.T) {
	s := newTestStore(t)
	if s.Known("nope") || !s.Known(Busybox) || !s.Known(Default) {
		t.Error("Known is wrong")
	}
	_, err := s.Ensure(context.Background(), "nope")
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("Ensure(nope) = %v, want NotFound", err)
	}
}

// fakeBuilder counts builds, writes a file, then waits for release or
// its context, and fails if told to.
type fakeBuilder struct {
	builds  atomic.Int32
	release chan struct{}
	fail    bool
}

func (f *fakeBuilder) build(ctx context.Context, dir string) error {
	f.builds.Add(1)
	if err := os.WriteFile(filepath.Join(dir, "half"), []byte("x"), 0o644); err != nil {
		return err
	}
	select {
	case <-f.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.fail {
		return errors.New("boom")
	}
	return nil
}

func TestConcurrentCallersShareOneBuild(t *testing.T) {
	s := newTestStore(t)
	fb := &fakeBuilder{release: make(chan struct{})}
	s.builders["fake"] = fb
	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Go(func() {
			p, err := s.Ensure(context.Background(), "fake")
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	time.Sleep(100 * time.Millisecond)
	if isDir(filepath.Join(s.cfg.Dir, "fake")) {
		t.Error("a half-built image is visible")
	}
	close(fb.release)
	wg.Wait()
	if n := fb.builds.Load(); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
	for _, p := range paths {
		if p != paths[0] || p == "" {
			t.Errorf("paths differ: %q", paths)
		}
	}
	assertNoBuildDirs(t, s)
}

func TestFailedBuildLeavesNothing(t *testing.T) {
	s := newTestStore(t)
	fb := &fakeBuilder{release: make(chan struct{}), fail: true}
	close(fb.release)
	s.builders["fake"] = fb
	if _, err := s.Ensure(context.Background(), "fake"); err == nil {
		t.Fatal("Ensure succeeded, want error")
	}
	if isDir(filepath.Join(s.cfg.Dir, "fake")) {
		t.Error("failed image is visible")
	}
	assertNoBuildDirs(t, s)
}

func TestLastWaiterGoneAbandonsBuild(t *testing.T) {
	s := newTestStore(t)
	fb := &fakeBuilder{release: make(chan struct{})}
	s.builders["fake"] = fb
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Ensure(ctx, "fake"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure = %v, want deadline exceeded", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.inflight)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("abandoned build still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	assertNoBuildDirs(t, s)
	if isDir(filepath.Join(s.cfg.Dir, "fake")) {
		t.Error("abandoned image is visible")
	}
}

func TestStaleBuildDirRemoved(t *testing.T) {
	s := newTestStore(t)
	stale := filepath.Join(s.cfg.Dir, ".build-fake-123")
	if err := os.MkdirAll(filepath.Join(stale, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	fb := &fakeBuilder{release: make(chan struct{})}
	close(fb.release)
	s.builders["fake"] = fb
	if _, err := s.Ensure(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	assertNoBuildDirs(t, s)
}

func assertNoBuildDirs(t *testing.T, s *Store) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(s.cfg.Dir, ".build-*"))
	if len(left) > 0 {
		t.Errorf("build dirs left behind: %v", left)
	}
}

// TestDebian builds the Debian image (about a minute, network to the
// Debian mirror). It runs when HOGLAND_TEST_DEBIAN=1, building in a
// temporary directory, or when HOGLAND_IMAGE_CACHE names a directory, in
// which the image is built once and reused by later runs.
func TestDebian(t *testing.T) {
	dir := os.Getenv("HOGLAND_IMAGE_CACHE")
	if dir == "" && os.Getenv("HOGLAND_TEST_DEBIAN") != "1" {
		t.Skip("debian image build takes ~1 min: set HOGLAND_TEST_DEBIAN=1 or HOGLAND_IMAGE_CACHE=DIR")
	}
	if os.Geteuid() != 0 {
		t.Skip("debootstrap needs root")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := NewStore(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	root, err := s.Ensure(ctx, Debian)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("debian image ready in %v at %s", time.Since(start), root)
	for _, p := range []string{"usr/bin/python3", "etc/ssl/certs/ca-certificates.crt", "bin/sh", "etc/debian_version"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("image lacks %s: %v", p, err)
		}
	}
	for _, g := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*", "etc/resolv.conf"} {
		if m, _ := filepath.Glob(filepath.Join(root, g)); len(m) > 0 {
			t.Errorf("image keeps %s: %d files", g, len(m))
		}
	}
	if m, _ := mountinfo.Under(dir); len(m) > 0 {
		t.Errorf("mounts left under the store: %v", m)
	}
}
