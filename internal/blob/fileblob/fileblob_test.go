package fileblob

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/PostHog/hogland/internal/blob/blobtest"
)

func TestContract(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)
}

func TestNewRemovesHalfWrittenBlobs(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(dir); err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(dir, ".tmp", "put-123")
	if err := os.WriteFile(half, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Fatalf("half-written blob still there: %v", err)
	}
}
