package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

func TestExec(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", Env: map[string]string{"BOXVAR": "box"}})
	path := "/v1/hogboxes/" + b.ID + "/exec"

	cases := []struct {
		name  string
		req   api.ExecRequest
		check func(t *testing.T, r api.ExecResult)
	}{
		{"exit code", api.ExecRequest{Argv: []string{"sh", "-c", "exit 3"}}, func(t *testing.T, r api.ExecResult) {
			if r.ExitCode != 3 || r.TimedOut {
				t.Errorf("%+v", r)
			}
		}},
		{"stdout and stderr", api.ExecRequest{Argv: []string{"sh", "-c", "echo out; echo err >&2"}}, func(t *testing.T, r api.ExecResult) {
			if r.Stdout != "out\n" || r.Stderr != "err\n" || r.ExitCode != 0 {
				t.Errorf("%+v", r)
			}
		}},
		{"env merges over the box env", api.ExecRequest{Argv: []string{"sh", "-c", "echo $BOXVAR $CALLVAR"}, Env: map[string]string{"CALLVAR": "call"}}, func(t *testing.T, r api.ExecResult) {
			if r.Stdout != "box call\n" {
				t.Errorf("%q", r.Stdout)
			}
		}},
		{"workdir", api.ExecRequest{Argv: []string{"pwd"}, Workdir: "/tmp"}, func(t *testing.T, r api.ExecResult) {
			if r.Stdout != "/tmp\n" {
				t.Errorf("%q", r.Stdout)
			}
		}},
		{"stdin", api.ExecRequest{Argv: []string{"sh", "-c", "tr a-z A-Z"}, Stdin: "hello\n"}, func(t *testing.T, r api.ExecResult) {
			if r.Stdout != "HELLO\n" {
				t.Errorf("%q", r.Stdout)
			}
		}},
		{"timeout kills the process group", api.ExecRequest{Argv: []string{"sh", "-c", "sleep 100 & sleep 100"}, TimeoutSeconds: 1}, func(t *testing.T, r api.ExecResult) {
			if !r.TimedOut || r.ExitCode != -1 || r.DurationMS < 900 || r.DurationMS > 10000 {
				t.Errorf("%+v", r)
			}
		}},
		{"killed by a signal is -1", api.ExecRequest{Argv: []string{"sh", "-c", "kill -9 $$"}}, func(t *testing.T, r api.ExecResult) {
			if r.ExitCode != -1 || r.TimedOut {
				t.Errorf("%+v", r)
			}
		}},
		{"stdout truncated at 1 MiB", api.ExecRequest{Argv: []string{"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2"}}, func(t *testing.T, r api.ExecResult) {
			if len(r.Stdout) != 1<<20 || !r.StdoutTruncated || r.StderrTruncated || r.Stderr != "done\n" || r.ExitCode != 0 {
				t.Errorf("len=%d truncated=%v stderr=%q exit=%d", len(r.Stdout), r.StdoutTruncated, r.Stderr, r.ExitCode)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r api.ExecResult
			c.must("POST", path, tc.req, &r, 200)
			tc.check(t, r)
		})
	}
	// The timed-out sleeps are gone.
	if out := c.sh(b.ID, "ps -o comm | grep -c sleep || true"); strings.TrimSpace(out) != "0" {
		t.Errorf("sleep processes left after timeout: %s", out)
	}
	c.problem("POST", path, api.ExecRequest{Argv: []string{"pwd"}, Workdir: "/nope"}, 400)
	if pr := c.problem("POST", path, api.ExecRequest{Argv: []string{"no-such-command"}}, 400); !strings.Contains(pr.Detail, "no-such-command") {
		t.Errorf("missing command: %s", pr.Detail)
	}
}

type sseEvent struct {
	ID    string
	Event string
	Data  api.ExecEvent
}

// readSSE reads server-sent events until the stream ends or stop says so.
func readSSE(t *testing.T, r io.Reader, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Event != "" {
				out = append(out, cur)
				if stop != nil && stop(cur) {
					return out
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id:"):
			cur.ID = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			cur.Event = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			if err := json.Unmarshal([]byte(strings.TrimSpace(line[5:])), &cur.Data); err != nil {
				t.Fatalf("event data %q: %v", line, err)
			}
		}
	}
	return out
}

func TestExecStream(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	req := `{"argv":["sh","-c","for i in 1 2 3 4 5 6; do echo out$i; echo err$i >&2; sleep 0.2; done; exit 7"]}`
	resp := c.request("POST", "/v1/hogboxes/"+b.ID+"/exec/stream", strings.NewReader(req), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}
	execID := resp.Header.Get("X-Exec-Id")
	// Read four events, then drop the connection.
	first := readSSE(t, resp.Body, func(e sseEvent) bool { return len(e.ID) > 0 && e.Data.Seq >= 4 })
	resp.Body.Close()
	last := first[len(first)-1].ID

	resume := c.request("GET", "/v1/hogboxes/"+b.ID+"/execs/"+execID+"/events", nil, map[string]string{"Last-Event-ID": last})
	defer resume.Body.Close()
	if resume.StatusCode != 200 {
		t.Fatalf("resume: %d", resume.StatusCode)
	}
	rest := readSSE(t, resume.Body, nil)
	all := append(first, rest...)
	var stdout, stderr strings.Builder
	for i, e := range all {
		if e.ID != strconv.Itoa(i+1) || e.Data.Seq != int64(i+1) {
			t.Fatalf("event %d has id %s seq %d: lost or repeated across the resume", i, e.ID, e.Data.Seq)
		}
		if e.Event != e.Data.Kind {
			t.Errorf("event name %s, data kind %s", e.Event, e.Data.Kind)
		}
		switch e.Event {
		case "stdout":
			stdout.WriteString(e.Data.Data)
		case "stderr":
			stderr.WriteString(e.Data.Data)
		}
	}
	end := all[len(all)-1]
	if end.Event != "exit" || end.Data.ExitCode == nil || *end.Data.ExitCode != 7 {
		t.Errorf("last event %+v", end)
	}
	if stdout.String() != "out1\nout2\nout3\nout4\nout5\nout6\n" || stderr.String() != "err1\nerr2\nerr3\nerr4\nerr5\nerr6\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// No output cap on streams.
	resp = c.request("POST", "/v1/hogboxes/"+b.ID+"/exec/stream",
		strings.NewReader(`{"argv":["sh","-c","head -c 3000000 /dev/zero | tr '\\0' a"]}`), map[string]string{"Content-Type": "application/json"})
	n := 0
	for _, e := range readSSE(t, resp.Body, nil) {
		n += len(e.Data.Data)
	}
	resp.Body.Close()
	if n != 3000000 {
		t.Errorf("streamed %d bytes, want 3000000", n)
	}
	c.problem("GET", "/v1/hogboxes/"+b.ID+"/execs/exe-nope/events", nil, 404)
	resp = c.request("GET", "/v1/hogboxes/"+b.ID+"/execs/"+execID+"/events", nil, map[string]string{"Last-Event-ID": "x"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad Last-Event-ID: %d", resp.StatusCode)
	}
}

// TestExecLiveStdinAndSignal feeds a streaming exec more input while it
// runs, and stops another with a signal.
func TestExecLiveStdinAndSignal(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	base := "/v1/hogboxes/" + b.ID
	resp := c.request("POST", base+"/exec/stream",
		strings.NewReader(`{"argv":["sh","-c","while read l; do echo got $l; done; echo eof"],"stdin":"one\n","stdin_open":true}`),
		map[string]string{"Content-Type": "application/json"})
	defer resp.Body.Close()
	execID := resp.Header.Get("X-Exec-Id")
	events := make(chan sseEvent, 16)
	go func() {
		readSSE(t, resp.Body, func(e sseEvent) bool { events <- e; return e.Event == "exit" })
		close(events)
	}()
	next := func() sseEvent {
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
			return sseEvent{}
		}
	}
	if e := next(); e.Data.Data != "got one\n" {
		t.Fatalf("first event %+v", e)
	}
	send := func(body, query string) {
		r := c.request("POST", base+"/execs/"+execID+"/stdin"+query, strings.NewReader(body), nil)
		r.Body.Close()
		if r.StatusCode != 204 {
			t.Fatalf("stdin%s: %d", query, r.StatusCode)
		}
	}
	send("two\n", "?close=false")
	if e := next(); e.Data.Data != "got two\n" {
		t.Fatalf("after more stdin: %+v", e)
	}
	send("three\n", "") // and close
	var out strings.Builder
	var exit sseEvent
	for e := next(); ; e = next() {
		if e.Event == "exit" {
			exit = e
			break
		}
		out.WriteString(e.Data.Data)
	}
	if out.String() != "got three\neof\n" || exit.Data.ExitCode == nil || *exit.Data.ExitCode != 0 {
		t.Errorf("after closing stdin: %q, exit %+v", out.String(), exit.Data)
	}
	// Stdin of an exec started without stdin_open is closed already.
	c.problem("POST", base+"/execs/"+execID+"/stdin", nil, 409)
	c.problem("POST", base+"/exec", api.ExecRequest{Argv: []string{"true"}, StdinOpen: true}, 400)

	// A signal stops a long exec; -1 says a signal ended it.
	resp2 := c.request("POST", base+"/exec/stream", strings.NewReader(`{"argv":["sleep","100"]}`),
		map[string]string{"Content-Type": "application/json"})
	defer resp2.Body.Close()
	sleeper := resp2.Header.Get("X-Exec-Id")
	c.must("POST", base+"/execs/"+sleeper+"/signal", api.SignalRequest{Signal: "TERM"}, nil, 204)
	evs := readSSE(t, resp2.Body, nil)
	last := evs[len(evs)-1]
	if last.Event != "exit" || last.Data.ExitCode == nil || *last.Data.ExitCode != -1 {
		t.Errorf("signalled exec ended with %+v", last.Data)
	}
	c.problem("POST", base+"/execs/"+sleeper+"/signal", api.SignalRequest{Signal: "TERM"}, 409)
	c.problem("POST", base+"/execs/"+sleeper+"/signal", api.SignalRequest{}, 400)
}
