package panion_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/client"
)

// term follows the output of a PTY in the background.
type term struct {
	t    testing.TB
	pty  *client.PTY
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error // the read error that ended the output, once done
}

// openTerm opens a PTY and reads its output until it ends.
func openTerm(t testing.TB, a *agent, req client.PTYRequest) *term {
	t.Helper()
	p, err := a.c.OpenPTY(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, pty: p, done: make(chan struct{})}
	t.Cleanup(func() { p.Close() })
	go func() {
		defer close(tm.done)
		buf := make([]byte, 1024)
		for {
			n, err := p.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				tm.err = err
				return
			}
		}
	}()
	return tm
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// typeLine types s and a newline.
func (tm *term) typeLine(s string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(s + "\n")); err != nil {
		tm.t.Fatal(err)
	}
}

// waitFor waits until the output contains want.
func (tm *term) waitFor(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tm.output(), want) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("terminal never printed %q; output so far:\n%q", want, tm.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMatch waits until the output matches re and answers the submatches
// of the last match.
func (tm *term) waitMatch(re string) []string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := rx.FindAllStringSubmatch(tm.output(), -1); m != nil {
			return m[len(m)-1]
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("terminal never printed a match of %q; output so far:\n%q", re, tm.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exitCode waits for the end of the output and answers the exit code.
func (tm *term) exitCode() int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		tm.t.Fatalf("terminal did not end; output:\n%q", tm.output())
	}
	if !errors.Is(tm.err, io.EOF) {
		tm.t.Fatalf("output ended with %v, want io.EOF", tm.err)
	}
	code, ok := tm.pty.ExitCode()
	if !ok {
		tm.t.Fatal("no exit code after io.EOF")
	}
	return code
}

func TestPTYShellResizeAndExit(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tm := openTerm(t, a, client.PTYRequest{Argv: []string{"sh"}, Cols: 100, Rows: 30})
	tm.typeLine("echo $((6*7))")
	tm.waitFor("42\r\n")
	tm.typeLine("stty size")
	tm.waitFor("30 100\r\n")
	if err := tm.pty.Resize(132, 43); err != nil {
		t.Fatal(err)
	}
	tm.typeLine("stty size")
	tm.waitFor("43 132\r\n")
	tm.typeLine("[ -t 0 ] && echo is-a''-tty")
	tm.waitFor("is-a-tty")
	tm.typeLine("exit 7")
	if code := tm.exitCode(); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
}

func TestPTYDefaults(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tm := openTerm(t, a, client.PTYRequest{Env: map[string]string{"GREETING": "hi"}, Workdir: "/tmp"})
	tm.typeLine(`echo "T=$TERM G=$GREETING D=$(pwd) S=$(stty size)"`)
	tm.waitFor("T=xterm-256color G=hi D=/tmp S=24 80")
	// The shell leads its own session and the terminal is its controlling one.
	tm.typeLine(`echo sid''=$(cut -d' ' -f6 /proc/$$/stat),pid=$$.`)
	m := tm.waitMatch(`sid=(\d+),pid=(\d+)\.`)
	if m[1] != m[2] {
		t.Errorf("session id %s, pid %s: the shell should lead its session", m[1], m[2])
	}
	tm.typeLine("exit")
	if code := tm.exitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestPTYKilledBySignal(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tm := openTerm(t, a, client.PTYRequest{Argv: []string{"sh"}})
	tm.typeLine("kill -9 $$")
	if code := tm.exitCode(); code != -1 {
		t.Errorf("exit code %d, want -1", code)
	}
}

// TestPTYHangup checks that closing the connection kills the shell and
// its background jobs, which job control puts in groups of their own.
func TestPTYHangup(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tm := openTerm(t, a, client.PTYRequest{Argv: []string{"sh", "-i"}})
	tm.typeLine("set -m; sleep 1000 & echo pid''s=$$,$!.")
	m := tm.waitMatch(`pids=(\d+),(\d+)\.`)
	shellPID, _ := strconv.Atoi(m[1])
	jobPID, _ := strconv.Atoi(m[2])
	if processState(jobPID) == "" {
		t.Fatalf("background job %d is not running", jobPID)
	}
	tm.pty.Close()
	waitDead(t, shellPID, 10*time.Second)
	waitDead(t, jobPID, 10*time.Second)
}

// TestPTYOutputBurst checks that output printed right before the exit
// reaches the host whole, ahead of the exit frame.
func TestPTYOutputBurst(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tm := openTerm(t, a, client.PTYRequest{Argv: []string{"sh", "-c", "seq 1 20000; exit 3"}})
	if code := tm.exitCode(); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	if out := tm.output(); !strings.HasSuffix(out, "19999\r\n20000\r\n") {
		t.Errorf("output ends with %q", out[max(0, len(out)-40):])
	}
}

func TestPTYStartErrors(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	for _, c := range []struct {
		req    client.PTYRequest
		detail string
	}{
		{client.PTYRequest{Argv: []string{"no-such-program"}}, "executable not found: no-such-program"},
		{client.PTYRequest{Workdir: "/no/such/dir"}, "workdir /no/such/dir does not exist"},
		{client.PTYRequest{Cols: 70000}, "cols must be between 1 and 65535"},
		{client.PTYRequest{Env: map[string]string{"A=B": "x"}}, "env name"},
	} {
		_, err := a.c.OpenPTY(ctxT(t), c.req)
		wantKind(t, err, errs.Invalid, c.detail)
	}
	// Without the upgrade headers: an ordinary 400.
	resp, err := a.rawHTTP().Post("http://agent/v1/ptys", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no upgrade: status %d, want 400", resp.StatusCode)
	}
}
