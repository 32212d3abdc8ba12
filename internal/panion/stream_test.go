package panion_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion"
	"github.com/PostHog/hogland/internal/panion/client"
)

// events reads the event stream of exec id after seq `after` to its end.
func events(t testing.TB, c *client.Client, id string, after int64) []api.ExecEvent {
	t.Helper()
	body, err := c.Events(ctxT(t), id, after)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	var evs []api.ExecEvent
	if err := client.ReadEvents(body, func(ev api.ExecEvent) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// summary is what a list of events says.
type summary struct {
	stdout, stderr string
	exit           *api.ExecEvent
}

// summarize checks that seqs run on by one from first and that exactly one
// exit event comes last.
func summarize(t testing.TB, evs []api.ExecEvent, first int64) summary {
	t.Helper()
	var s summary
	var out, serr strings.Builder
	for i, ev := range evs {
		if ev.Seq != first+int64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, ev.Seq, first+int64(i))
		}
		switch ev.Kind {
		case api.EventStdout:
			out.WriteString(ev.Data)
		case api.EventStderr:
			serr.WriteString(ev.Data)
		case api.EventExit:
			if i != len(evs)-1 || ev.ExitCode == nil {
				t.Fatalf("exit event %+v at %d of %d", ev, i, len(evs))
			}
			s.exit = &evs[i]
		default:
			t.Fatalf("unknown event kind %q", ev.Kind)
		}
	}
	if s.exit == nil {
		t.Fatal("no exit event")
	}
	s.stdout, s.stderr = out.String(), serr.String()
	return s
}

func lines(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

func TestStreamExec(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	tests := []struct {
		name           string
		req            api.ExecRequest
		stdout, stderr string
		code           int
		timedOut       bool
	}{
		{name: "output in order, then exit",
			req:    sh("for i in $(seq 1 300); do echo line$i; done; echo oops >&2; exit 7"),
			stdout: lines("line", 300), stderr: "oops\n", code: 7},
		{name: "big output is not capped",
			req:    sh("head -c 3000000 /dev/zero | tr '\\0' x"),
			stdout: strings.Repeat("x", 3000000)},
		{name: "stdin from the request",
			req:    api.ExecRequest{Argv: []string{"sh", "-c", "head -c 5"}, Stdin: "hello"},
			stdout: "hello"},
		{name: "timeout",
			req:  api.ExecRequest{Argv: []string{"sh", "-c", "sleep 100 & sleep 100"}, TimeoutSeconds: 0.3},
			code: -1, timedOut: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := a.c.StartExec(ctxT(t), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(id, "exe-") {
				t.Fatalf("id %q", id)
			}
			s := summarize(t, events(t, a.c, id, 0), 1)
			if s.stdout != tc.stdout || s.stderr != tc.stderr {
				t.Fatalf("stdout %.80q (%d bytes) stderr %q, want %.80q (%d bytes) %q",
					s.stdout, len(s.stdout), s.stderr, tc.stdout, len(tc.stdout), tc.stderr)
			}
			if *s.exit.ExitCode != tc.code || s.exit.TimedOut != tc.timedOut {
				t.Fatalf("exit %+v, want code %d timed_out %v", *s.exit, tc.code, tc.timedOut)
			}
			st, err := a.c.ExecStatus(ctxT(t), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Running || st.ExitCode == nil || *st.ExitCode != tc.code || st.TimedOut != tc.timedOut {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

// A reader that loses its stream resumes with after= and misses nothing.
func TestStreamResume(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	id, err := a.c.StartExec(ctxT(t), sh("for i in $(seq 1 40); do echo n$i; sleep 0.01; done"))
	if err != nil {
		t.Fatal(err)
	}
	var got []api.ExecEvent
	errEnough := errors.New("enough")
	for round := 0; ; round++ {
		ctx, cancel := context.WithCancel(ctxT(t))
		var after int64
		if len(got) > 0 {
			after = got[len(got)-1].Seq
		}
		body, err := a.c.Events(ctx, id, after)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = client.ReadEvents(body, func(ev api.ExecEvent) error {
			got = append(got, ev)
			if n++; n == 5 && ev.Kind != api.EventExit {
				return errEnough // drop the stream after five events
			}
			return nil
		})
		body.Close()
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, errEnough) {
			t.Fatal(err)
		}
		if round > 100 {
			t.Fatal("stream never ended")
		}
	}
	s := summarize(t, got, 1)
	if s.stdout != lines("n", 40) || *s.exit.ExitCode != 0 {
		t.Fatalf("stdout %q exit %d", s.stdout, *s.exit.ExitCode)
	}
	if tail := events(t, a.c, id, got[len(got)-3].Seq); len(tail) != 2 || tail[1].Kind != api.EventExit {
		t.Fatalf("replay of a finished exec: %+v", tail)
	}
}

func TestStreamConcurrentReaders(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	id, err := a.c.StartExec(ctxT(t), sh("for i in $(seq 1 50); do echo r$i; echo e$i >&2; sleep 0.005; done"))
	if err != nil {
		t.Fatal(err)
	}
	const readers = 6
	got := make([][]api.ExecEvent, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() { got[i] = events(t, a.c, id, 0) })
	}
	wg.Wait()
	s := summarize(t, got[0], 1)
	if s.stdout != lines("r", 50) || s.stderr != lines("e", 50) {
		t.Fatalf("stdout %q stderr %q", s.stdout, s.stderr)
	}
	for i := 1; i < readers; i++ {
		if eventsString(got[i]) != eventsString(got[0]) {
			t.Fatalf("reader %d saw other events than reader 0", i)
		}
	}
}

func TestStreamStdin(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	ctx := ctxT(t)
	id, err := a.c.StartExecWith(ctx, api.ExecRequest{Argv: []string{"cat"}, Stdin: "one "},
		client.StartOptions{KeepStdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.c.AppendStdin(ctx, id, strings.NewReader("two ")); err != nil {
		t.Fatal(err)
	}
	if err := a.c.WriteStdin(ctx, id, strings.NewReader("three")); err != nil {
		t.Fatal(err)
	}
	s := summarize(t, events(t, a.c, id, 0), 1)
	if s.stdout != "one two three" || *s.exit.ExitCode != 0 {
		t.Fatalf("stdout %q exit %d", s.stdout, *s.exit.ExitCode)
	}
	err = a.c.WriteStdin(ctx, id, strings.NewReader("late"))
	wantKind(t, err, errs.Conflict, "stdin")

	// Without KeepStdinOpen stdin ends after the request's: cat needs no help to end.
	for _, in := range []string{"", "just this"} {
		id, err := a.c.StartExec(ctx, api.ExecRequest{Argv: []string{"cat"}, Stdin: in})
		if err != nil {
			t.Fatal(err)
		}
		s := summarize(t, events(t, a.c, id, 0), 1)
		if s.stdout != in || *s.exit.ExitCode != 0 {
			t.Fatalf("stdout %q exit %d", s.stdout, *s.exit.ExitCode)
		}
		wantKind(t, a.c.WriteStdin(ctx, id, strings.NewReader("x")), errs.Conflict, "")
	}
}

// A stdin write blocked on a process that does not read ends when the
// process ends.
func TestStreamStdinEndsWithProcess(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	id, err := a.c.StartExecWith(ctxT(t), api.ExecRequest{Argv: []string{"sleep", "100"}, TimeoutSeconds: 0.5},
		client.StartOptions{KeepStdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { // more than a pipe holds, then nothing more
		_, _ = pw.Write(make([]byte, 1<<20))
	}()
	defer pw.Close()
	start := time.Now()
	err = a.c.WriteStdin(ctxT(t), id, pr)
	wantKind(t, err, errs.Conflict, "exited")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("stdin write hung for %s", took)
	}
}

func TestStreamSignalAndStatus(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	ctx := ctxT(t)
	id, err := a.c.StartExec(ctx, api.ExecRequest{Argv: []string{"sleep", "100"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.c.ExecStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || st.ExitCode != nil || st.PID <= 1 || st.ID != id {
		t.Fatalf("status of a running exec: %+v", st)
	}
	wantKind(t, a.c.Signal(ctx, id, "BOGUS"), errs.Invalid, "unknown signal")
	if err := a.c.Signal(ctx, id, "TERM"); err != nil {
		t.Fatal(err)
	}
	s := summarize(t, events(t, a.c, id, 0), 1)
	if *s.exit.ExitCode != -1 || s.exit.TimedOut {
		t.Fatalf("exit %+v, want -1 by signal", *s.exit)
	}
	wantKind(t, a.c.Signal(ctx, id, "KILL"), errs.Conflict, "already exited")
	_, err = a.c.ExecStatus(ctx, "exe-nope")
	wantKind(t, err, errs.NotFound, "no exec")
	_, err = a.c.Events(ctx, "exe-nope", 0)
	wantKind(t, err, errs.NotFound, "no exec")
}

func TestStreamExpires(t *testing.T) {
	t.Parallel()
	a := startAgent(t, func(c *panion.Config) { c.ExecRetention = 300 * time.Millisecond })
	id, err := a.c.StartExec(ctxT(t), api.ExecRequest{Argv: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	summarize(t, events(t, a.c, id, 0), 1)
	waitFor(t, 5*time.Second, "the exec to expire", func() bool {
		_, err := a.c.ExecStatus(ctxT(t), id)
		return errs.Is(err, errs.NotFound)
	})
}

// eventsString shows events with their exit code, not its address.
func eventsString(evs []api.ExecEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		code := "-"
		if ev.ExitCode != nil {
			code = fmt.Sprint(*ev.ExitCode)
		}
		fmt.Fprintf(&b, "%d %s %q %s %v\n", ev.Seq, ev.Kind, ev.Data, code, ev.TimedOut)
	}
	return b.String()
}

func TestStreamSSEFraming(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	id, err := a.c.StartExec(ctxT(t), sh("printf hi"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := a.c.Events(ctxT(t), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(readAll(t, body))
	want := "id: 1\nevent: stdout\ndata: {\"kind\":\"stdout\",\"seq\":1,\"data\":\"hi\"}\n\nid: 2\nevent: exit\ndata: {\"kind\":\"exit\",\"seq\":2,\"exit_code\":0"
	if !strings.HasPrefix(raw, want) || !strings.HasSuffix(raw, "}\n\n") {
		t.Fatalf("raw stream:\n%s", raw)
	}
}

// A write whose last line (and the end of stdin after it) makes the
// process exit is done, not refused because the process ended before the
// answer was written.
func TestStreamStdinLastWriteEndsProcess(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	ctx := ctxT(t)
	for i := range 30 {
		id, err := a.c.StartExecWith(ctx, api.ExecRequest{Argv: []string{"sh", "-c", "while read l; do echo $l; done"}},
			client.StartOptions{KeepStdinOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.c.WriteStdin(ctx, id, strings.NewReader("a\n")); err != nil {
			t.Fatalf("round %d: closing write refused: %v", i, err)
		}
		if s := summarize(t, events(t, a.c, id, 0), 1); s.stdout != "a\n" || *s.exit.ExitCode != 0 {
			t.Fatalf("round %d: stdout %q exit %d", i, s.stdout, *s.exit.ExitCode)
		}
	}
}
