package client

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// TestPTYReadFrames feeds a PTY frames over a pipe: data is read across
// frame boundaries, unknown types are skipped, the exit frame ends the
// output with io.EOF and sets the exit code.
func TestPTYReadFrames(t *testing.T) {
	agent, host := net.Pipe()
	defer agent.Close()
	p := &PTY{conn: host, r: bufio.NewReader(host)}
	defer p.Close()
	go func() {
		_ = wire.WriteFrame(agent, wire.FrameData, []byte("hello, "))
		_ = wire.WriteFrame(agent, 42, []byte("from the future"))
		_ = wire.WriteFrame(agent, wire.FrameData, nil)
		_ = wire.WriteFrame(agent, wire.FrameData, []byte("terminal"))
		_ = wire.WriteFrame(agent, wire.FrameExit, []byte(`{"exit_code":4}`))
	}()
	if _, ok := p.ExitCode(); ok {
		t.Fatal("exit code before the exit frame")
	}
	out, err := io.ReadAll(p)
	if err != nil || string(out) != "hello, terminal" {
		t.Fatalf("read %q, %v", out, err)
	}
	if code, ok := p.ExitCode(); !ok || code != 4 {
		t.Errorf("exit code %d %v, want 4", code, ok)
	}
}

func TestPTYHungUp(t *testing.T) {
	agent, host := net.Pipe()
	p := &PTY{conn: host, r: bufio.NewReader(host)}
	defer p.Close()
	go func() {
		_ = wire.WriteFrame(agent, wire.FrameData, []byte("partial"))
		agent.Close()
	}()
	out, err := io.ReadAll(p)
	var e *errs.Error
	if string(out) != "partial" || !errors.As(err, &e) || e.Kind != errs.Unavailable {
		t.Fatalf("read %q, %v; want the output, then an unavailable error", out, err)
	}
	if _, ok := p.ExitCode(); ok {
		t.Error("exit code without an exit frame")
	}
}
