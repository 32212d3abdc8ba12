package oci

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/image"
)

// TestLayers stacks a snapshot layer over the image: the upper layer's
// files win, the image shows through, and writes go to neither.
func TestLayers(t *testing.T) {
	d := newDriver(t)
	snap := t.TempDir()
	if err := os.MkdirAll(filepath.Join(snap, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "etc/motd"), []byte("from snapshot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "etc/group"), []byte("root:x:0:\nsnap:x:7:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := newID()
	spec := testSpec(id)
	spec.Layers = []string{snap, busyboxRoot}
	createBox(t, d, spec)
	if got := sh(t, d, id, "cat /etc/motd"); got != "from snapshot" {
		t.Errorf("motd = %q", got)
	}
	if got := sh(t, d, id, "grep -c snap /etc/group"); got != "1" {
		t.Errorf("upper layer does not win: %q", got)
	}
	sh(t, d, id, "echo changed > /etc/motd && rm /etc/passwd && touch /new")
	if data, _ := os.ReadFile(filepath.Join(snap, "etc/motd")); string(data) != "from snapshot\n" {
		t.Error("a write in the box reached the snapshot layer")
	}
	if _, err := os.Stat(filepath.Join(busyboxRoot, "etc/passwd")); err != nil {
		t.Error("a delete in the box reached the image")
	}
}

// TestDebianBox runs python3 in a box of the Debian image. It runs when
// HOGLAND_IMAGE_CACHE names an image cache, building the image there
// first if no one did (about a minute).
func TestDebianBox(t *testing.T) {
	d := newDriver(t)
	if os.Getenv("HOGLAND_IMAGE_CACHE") == "" {
		t.Skip("the debian image takes ~1 min to build: set HOGLAND_IMAGE_CACHE=DIR to build it once there and run this")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := imageStore.Ensure(ctx, image.Debian)
	if err != nil {
		t.Fatal(err)
	}
	id := newID()
	spec := testSpec(id)
	spec.Layers = []string{root}
	createBox(t, d, spec)
	got := sh(t, d, id, `python3 -c 'import socket, ssl; print(socket.gethostname(), ssl.OPENSSL_VERSION.split()[0])'`)
	if got != id+" OpenSSL" {
		t.Errorf("python3 says %q", got)
	}
}
