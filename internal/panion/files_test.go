package panion_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/client"
)

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestFileRoundTrip(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dir := t.TempDir()
	tests := []struct {
		name     string
		rel      string
		mode     os.FileMode
		mkdir    bool
		content  []byte
		wantMode string
	}{
		{"every byte value, default mode", "bytes.bin", 0, false, allBytes(), "0644"},
		{"private mode", "secret", 0o600, false, []byte("s3cret"), "0600"},
		{"executable in new directories", "a/b/c/run.sh", 0o755, true, []byte("#!/bin/sh\n"), "0755"},
		{"empty file", "empty", 0, false, nil, "0644"},
		{"setuid bit kept", "suid", 0o755 | os.ModeSetuid, false, []byte("x"), "4755"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tc.rel)
			info, err := a.c.WriteFile(ctxT(t), path, tc.mode, tc.mkdir, bytes.NewReader(tc.content))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tc.content)
			if info.Path != path || info.Size != int64(len(tc.content)) ||
				info.SHA256 != hex.EncodeToString(sum[:]) || info.Mode != tc.wantMode {
				t.Fatalf("info %+v", info)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.mode; want != 0 && st.Mode()&(os.ModePerm|os.ModeSetuid) != want {
				t.Fatalf("mode on disk %v, want %v", st.Mode(), want)
			}
			got := a.readFile(t, path)
			if !bytes.Equal(got, tc.content) {
				t.Fatalf("read back %q, want %q", got, tc.content)
			}
		})
	}
}

// A 64 MiB file goes both ways intact.
func TestFileLarge(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	path := filepath.Join(t.TempDir(), "big")
	const size = 64 << 20
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), h)
	info, err := a.c.WriteFile(ctxT(t), path, 0, false, src)
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	if info.Size != size || info.SHA256 != want {
		t.Fatalf("info %+v, want size %d sha256 %s", info, size, want)
	}
	body, err := a.c.ReadFile(ctxT(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	h.Reset()
	n, err := io.Copy(h, body)
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("read back %d bytes (err %v), sha256 match %v", n, err, hex.EncodeToString(h.Sum(nil)) == want)
	}
}

// Files whose stat size is 0 or a page are read to EOF.
func TestFileReadPseudoFiles(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tests := []struct{ path, want string }{
		{"/proc/self/status", "Name:"},
		{"/proc/cpuinfo", "processor"},
		{"/proc/sys/kernel/ostype", "Linux"},
		{"/sys/kernel/mm/transparent_hugepage/enabled", "["},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(tc.path); err != nil {
				t.Skip(err)
			}
			got := string(a.readFile(t, tc.path))
			if !strings.Contains(got, tc.want) {
				t.Fatalf("%s = %q, want it to contain %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(p string) error {
		r, err := a.c.ReadFile(ctxT(t), p)
		if err == nil {
			r.Close()
		}
		return err
	}
	write := func(p string, mkdir bool, body io.Reader) error {
		_, err := a.c.WriteFile(ctxT(t), p, 0, mkdir, body)
		return err
	}
	tests := []struct {
		name   string
		err    error
		kind   errs.Kind
		detail string
	}{
		{"read missing file", read(filepath.Join(dir, "nope")), errs.NotFound, "does not exist"},
		{"read directory", read(dir), errs.Invalid, "is a directory"},
		{"read relative path", read("etc/passwd"), errs.Invalid, "must be absolute"},
		{"read fifo does not hang", read(fifo), errs.Invalid, "not a regular file"},
		{"read below a file", read(file + "/x"), errs.Invalid, "not a directory"},
		{"write onto a directory", write(dir, false, strings.NewReader("x")), errs.Invalid, "is a directory"},
		{"write without parent", write(filepath.Join(dir, "no/such/f"), false, strings.NewReader("x")), errs.NotFound, "pass mkdir=true"},
		{"write below a file", write(file+"/x", true, strings.NewReader("x")), errs.Invalid, "not a directory"},
		{"big body to a missing directory", write(filepath.Join(dir, "no/f"), false, io.LimitReader(zeros{}, 64<<20)), errs.NotFound, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantKind(t, tc.err, tc.kind, tc.detail) })
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

// agentWithOldFile starts an agent and writes "old" through it to a file
// in a fresh directory.
func agentWithOldFile(t *testing.T) (a *agent, dir, path string) {
	t.Helper()
	a = startAgent(t, nil)
	dir = t.TempDir()
	path = filepath.Join(dir, "f")
	if _, err := a.c.WriteFile(ctxT(t), path, 0, false, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	return a, dir, path
}

// A write that fails midway keeps the old file and leaves no temp file.
func TestFileWriteIsAtomic(t *testing.T) {
	t.Parallel()
	a, dir, path := agentWithOldFile(t)
	body := io.MultiReader(io.LimitReader(zeros{}, 1<<20), failingReader{})
	if _, err := a.c.WriteFile(ctxT(t), path, 0, false, body); err == nil {
		t.Fatal("a write whose body failed succeeded")
	}
	waitFor(t, 5*time.Second, "the temp file to go", func() bool { return len(tempFiles(t, dir)) == 0 })
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		t.Fatalf("after a failed write the file is %q (err %v), want \"old\"", got, err)
	}
}

// A write through a symlink replaces the target and keeps the link.
func TestFileWriteFollowsSymlink(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.WriteFile(ctxT(t), link, 0, false, strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Fatalf("target = %q", got)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", st, err)
	}
}

func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".hogpanion-tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// readFile reads a file through the agent, failing the test on error.
func (a *agent) readFile(t testing.TB, path string) []byte {
	t.Helper()
	r, err := a.c.ReadFile(ctxT(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return readAll(t, r)
}

// A write whose declared size (Content-Length) is not its body's fails and
// keeps the old file; one that matches is read whole, over several
// writeback kicks.
func TestFileWriteDeclaredSize(t *testing.T) {
	t.Parallel()
	a, dir, path := agentWithOldFile(t)
	for _, tc := range []struct {
		name string
		body int64
	}{{"short body", 3 << 20}, {"long body", 5<<20 + 1}} {
		t.Run(tc.name, func(t *testing.T) {
			body := io.LimitReader(zeros{}, tc.body)
			if _, err := a.c.WriteFileWith(ctxT(t), path, body, client.WriteOptions{Size: 5 << 20}); err == nil {
				t.Fatal("the write succeeded")
			}
			waitFor(t, 5*time.Second, "the temp file to go", func() bool { return len(tempFiles(t, dir)) == 0 })
			if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
				t.Fatalf("after a failed write the file has %d bytes (err %v), want \"old\"", len(got), err)
			}
		})
	}
	const size = 9<<20 + 5
	data := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	info, err := a.c.WriteFileWith(ctxT(t), path, io.MultiReader(bytes.NewReader(data)), client.WriteOptions{Size: size, NoHash: true})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size || info.SHA256 != "" {
		t.Fatalf("info %+v", info)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (err %v), equal %v", len(got), err, bytes.Equal(got, data))
	}
}
