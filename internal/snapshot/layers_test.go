package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PostHog/hogland/internal/blob/fileblob"
	"github.com/PostHog/hogland/internal/errs"
)

func newLayers(t *testing.T) (*Layers, *fileblob.Store) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("layers keep owners and trusted.* xattrs: needs root")
	}
	dir := t.TempDir()
	blobs, err := fileblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{Blobs: blobs, Dir: filepath.Join(dir, "layers")})
	if err != nil {
		t.Fatal(err)
	}
	return l, blobs
}

func captured(t *testing.T, l *Layers, files map[string]string) string {
	t.Helper()
	dir := l.WorkDir("capture")
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCommitFetchVerify(t *testing.T) {
	l, blobs := newLayers(t)
	ctx := context.Background()
	ly, err := l.Commit(ctx, captured(t, l, map[string]string{"etc/golden": "baked"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ly.Digest, "sha256:") || ly.Size == 0 {
		t.Fatalf("layer %+v", ly)
	}
	p, err := l.Path(ctx, ly.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "etc/golden")); string(b) != "baked" {
		t.Fatalf("cached layer holds %q", b)
	}
	// Evicted from the cache, it is fetched again from the blob store.
	hx := strings.TrimPrefix(ly.Digest, "sha256:")
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if p, err = l.Path(ctx, ly.Digest); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "etc/golden")); string(b) != "baked" {
		t.Fatalf("fetched layer holds %q", b)
	}
	// A corrupt archive (one byte changed, same size) is refused and
	// nothing of it is cached.
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(blobs.Dir(), "layers", "sha256", hx+".tar")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "baked")
	data[i] = 'B'
	if err := os.WriteFile(archive, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = l.Path(ctx, ly.Digest)
	if !errs.Is(err, errs.Internal) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Path of a corrupt layer = %v, want a corrupt error", err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Fatal("a corrupt layer was cached")
	}
	entries, _ := os.ReadDir(l.workDir())
	if len(entries) != 0 {
		t.Errorf("work dir holds %d entries after a refused fetch", len(entries))
	}
}

func TestCommitTooLarge(t *testing.T) {
	l, blobs := newLayers(t)
	_, err := l.Commit(context.Background(), captured(t, l, map[string]string{"big": strings.Repeat("x", 64<<10)}), 16<<10)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("Commit over the limit = %v, want Invalid", err)
	}
	if keys, _ := blobs.List(context.Background(), ""); len(keys) != 0 {
		t.Fatalf("stored %v", keys)
	}
}

func TestGC(t *testing.T) {
	l, blobs := newLayers(t)
	ctx := context.Background()
	keep, err := l.Commit(ctx, captured(t, l, map[string]string{"a": "keep"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	drop, err := l.Commit(ctx, captured(t, l, map[string]string{"a": "drop"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.GC(ctx, map[string]bool{keep.Digest: true}); err != nil {
		t.Fatal(err)
	}
	keys, _ := blobs.List(ctx, "")
	if len(keys) != 1 || !strings.Contains(keys[0], strings.TrimPrefix(keep.Digest, "sha256:")) {
		t.Fatalf("blobs after GC: %v", keys)
	}
	if _, err := os.Stat(l.cached(strings.TrimPrefix(drop.Digest, "sha256:"))); err == nil {
		t.Fatal("dropped layer still cached")
	}
	if _, err := l.Path(ctx, keep.Digest); err != nil {
		t.Fatal(err)
	}
}
