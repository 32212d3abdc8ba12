package fsuse

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAllocated(t *testing.T) {
	dir := t.TempDir()
	empty, err := Allocated(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file of 1 GiB holds nothing; 4 MiB written hold 4 MiB.
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "data"), make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Allocated(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := got - empty; d < 4<<20 || d > 5<<20 {
		t.Errorf("Allocated grew by %d bytes, want about 4 MiB", d)
	}
	if _, err := Allocated(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing dir: %v", err)
	}
}
