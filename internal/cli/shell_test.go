package cli

import (
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/PostHog/hogland/internal/syncbuf"
)

// ptyOutput collects what hog writes to its terminal.
type ptyOutput struct{ syncbuf.Buffer }

// waitFor waits until the output holds want, or fails the test.
func (o *ptyOutput) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got := o.String()
		if strings.Contains(got, want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("terminal never showed %q; it shows:\n%q", want, o.String())
}

// TestShellInATerminal drives `hog shell` from a real pseudo-terminal, as a
// person would: type commands, read their output, resize the window.
func TestShellInATerminal(t *testing.T) {
	p := startPlane(t)
	u := newUser(t)
	u.login(p, p.Token)
	box := u.createBox()

	cmd := exec.Command(u.bin, "shell", box)
	cmd.Env, cmd.Dir = u.env, u.home
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	out := &ptyOutput{}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, tty)
		close(copied)
	}()

	type line struct{ typed, want string }
	for _, l := range []line{
		{"echo $((6*7))\r", "42"},
		{"stty size\r", "24 80"},
	} {
		if _, err := tty.WriteString(l.typed); err != nil {
			t.Fatal(err)
		}
		out.waitFor(t, l.want)
	}
	// A resize of the local window reaches the box.
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 40, Cols: 132}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := tty.WriteString("stty size\r"); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "40 132") {
			break
		}
		if time.Now().After(deadline) {
			out.waitFor(t, "40 132")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := tty.WriteString("exit 5\r"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := cmd.ProcessState.ExitCode(); code != 5 {
			t.Errorf("hog shell exited %d (%v), want the shell's 5", code, err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("hog shell did not exit after the shell did")
	}
	tty.Close()
	<-copied
}
