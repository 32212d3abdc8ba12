// Package blobtest checks that a blob.Store keeps the interface's
// contract; every backend's tests run it.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/PostHog/hogland/internal/blob"
	"github.com/PostHog/hogland/internal/errs"
)

// Run checks s, which must be empty.
func Run(t *testing.T, s blob.Store) {
	ctx := context.Background()
	t.Run("PutOpenSizeDelete", func(t *testing.T) {
		data := bytes.Repeat([]byte("layer "), 100_000) // over one part of some clients
		if err := s.Put(ctx, "a/one.tar", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "a/one.tar"); !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes back, want the %d put", len(got), len(data))
		}
		if n, err := s.Size(ctx, "a/one.tar"); err != nil || n != int64(len(data)) {
			t.Fatalf("Size = %d, %v", n, err)
		}
		// Storing the same key again is harmless.
		if err := s.Put(ctx, "a/one.tar", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("second Put: %v", err)
		}
		if err := s.Delete(ctx, "a/one.tar"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "a/one.tar"); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
		if _, err := s.Open(ctx, "a/one.tar"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("Open after Delete = %v, want NotFound", err)
		}
		if _, err := s.Size(ctx, "a/one.tar"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("Size after Delete = %v, want NotFound", err)
		}
	})
	t.Run("ShortPutStoresNothing", func(t *testing.T) {
		err := s.Put(ctx, "short", strings.NewReader("abc"), 10)
		if err == nil {
			t.Fatal("Put of 3 bytes said to be 10 succeeded")
		}
		if _, err := s.Size(ctx, "short"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a failed Put left a blob: %v", err)
		}
		err = s.Put(ctx, "failing", io.MultiReader(strings.NewReader("abc"), errReader{}), 10)
		if err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		if _, err := s.Size(ctx, "failing"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a failed Put left a blob: %v", err)
		}
	})
	t.Run("PutFile", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "spool")
		if err := os.WriteFile(p, []byte("spooled"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(ctx, "b/spooled", p); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "b/spooled"); string(got) != "spooled" {
			t.Fatalf("read %q", got)
		}
		if _, err := os.Stat(p); err == nil {
			t.Error("PutFile left the local file")
		}
	})
	t.Run("List", func(t *testing.T) {
		for _, k := range []string{"l/x/2", "l/x/1", "l/y"} {
			if err := s.Put(ctx, k, strings.NewReader(k), int64(len(k))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.List(ctx, "l/x/")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"l/x/1", "l/x/2"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		for _, k := range []string{"", "/abs", "../up", "a//b", "UPPER", "a/../b"} {
			if err := s.Put(ctx, k, strings.NewReader("x"), 1); !errs.Is(err, errs.Invalid) {
				t.Errorf("Put(%q) = %v, want Invalid", k, err)
			}
		}
	})
}

func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
