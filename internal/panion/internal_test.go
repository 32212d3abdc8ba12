package panion

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

func TestCompleteUTF8(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a\xc3", 1},              // first byte of é
		{"a\xc3\xa9", 3},          // é whole
		{"\xe2\x9c", 0},           // two of three bytes of ✓
		{"a\xf0\x9f\x98", 1},      // three of four bytes of an emoji
		{"a\xff", 2},              // invalid, not held back
		{"\x80\x80\x80\x80", 4},   // stray continuation bytes
		{"ok\xf0\x9f\x98\x80", 6}, // emoji whole
	}
	for _, tc := range tests {
		if got := completeUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("completeUTF8(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// A character split between two reads is sent whole.
func TestStreamSinkKeepsCharactersWhole(t *testing.T) {
	log := newEventLog(1 << 20)
	k := &streamSink{log: log, kind: api.EventStdout}
	for _, chunk := range []string{"a\xc3", "\xa9b\xe2", "\x9c", "\x93", "\xf0"} {
		_, _ = k.Write([]byte(chunk))
	}
	k.flush()
	var got []string
	for _, f := range log.since(0).frames {
		got = append(got, string(f))
	}
	joined := strings.Join(got, "")
	for _, want := range []string{`"data":"a"`, `"data":"éb"`, `"data":"✓"`, `"data":"\ufffd"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("events %q lack %s", joined, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d events, want 4: %q", len(got), got)
	}
}

func TestEventLogKeepsNewest(t *testing.T) {
	l := newEventLog(1000)
	for range 100 {
		l.append(api.ExecEvent{Kind: api.EventStdout, Data: strings.Repeat("x", 50)})
	}
	v := l.since(0)
	if l.size > 1000 || len(v.frames) == 0 || v.last != 100 {
		t.Fatalf("size %d, %d frames, last %d", l.size, len(v.frames), v.last)
	}
	first := int64(100 - len(v.frames) + 1)
	if !strings.HasPrefix(string(v.frames[0]), "id: "+strconv.FormatInt(first, 10)+"\n") {
		t.Fatalf("oldest kept frame %q, want seq %d", v.frames[0], first)
	}
	if v := l.since(98); len(v.frames) != 2 || v.closed {
		t.Fatalf("since(98): %d frames closed %v", len(v.frames), v.closed)
	}
	big := strings.Repeat("y", 5000)
	l.append(api.ExecEvent{Kind: api.EventStdout, Data: big})
	l.close()
	if v := l.since(0); len(v.frames) != 1 || !v.closed || v.last != 101 {
		t.Fatalf("an event over the limit alone: %d frames, closed %v, last %d", len(v.frames), v.closed, v.last)
	}
	if v := l.since(101); len(v.frames) != 0 || !v.closed {
		t.Fatal("since(last) should be empty and closed")
	}
}

func TestMergeEnv(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/root", "A=1"}
	got, err := mergeEnv(base, map[string]string{"HOME": "/home/x", "Z": "z", "B": "b"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/bin", "HOME=/home/x", "A=1", "B=b", "Z=z"}
	if !slices.Equal(got, want) {
		t.Fatalf("mergeEnv = %q, want %q", got, want)
	}
	for _, bad := range []map[string]string{{"": "x"}, {"A=B": "x"}, {"A": "x\x00y"}} {
		if _, err := mergeEnv(base, bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("mergeEnv(%q) error %v, want Invalid", bad, err)
		}
	}
}

func TestFSErrorKinds(t *testing.T) {
	tests := []struct {
		errno syscall.Errno
		kind  errs.Kind
	}{
		{syscall.ENOENT, errs.NotFound},
		{syscall.EACCES, errs.PermissionDenied},
		{syscall.EPERM, errs.PermissionDenied},
		{syscall.EROFS, errs.PermissionDenied},
		{syscall.ENOSPC, errs.TooLarge},
		{syscall.EISDIR, errs.Invalid},
		{syscall.ENOTDIR, errs.Invalid},
		{syscall.EIO, errs.Internal},
	}
	for _, tc := range tests {
		err := fsError("/x", &os.PathError{Op: "open", Path: "/x", Err: tc.errno})
		if k := errs.KindOf(err); k != tc.kind {
			t.Errorf("fsError(%v) kind %v, want %v", tc.errno, k, tc.kind)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL, "int": syscall.SIGINT, "9": syscall.SIGKILL,
	} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "NOPE", "0", "65", "-1"} {
		if _, err := parseSignal(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("parseSignal(%q) error %v, want Invalid", bad, err)
		}
	}
}

func TestDescendants(t *testing.T) {
	if got := descendants(os.Getpid()); slices.Contains(got, os.Getpid()) || slices.Contains(got, 1) {
		t.Fatalf("descendants of self include self or init: %v", got)
	}
	if ppid, ok := parentOf(os.Getpid()); !ok || ppid != os.Getppid() {
		t.Fatalf("parentOf(self) = %d %v, want %d", ppid, ok, os.Getppid())
	}
}
