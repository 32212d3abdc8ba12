package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/api"
)

// dialWS opens a WebSocket to path on the plane, with the token as a
// bearer header when bearer is set (else add ?token= to path, or send no
// credential). On a refused upgrade it answers the status and body.
func (c *client) dialWS(ctx context.Context, path string, bearer bool) (*websocket.Conn, int, []byte) {
	c.t.Helper()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if bearer {
		opts.HTTPHeader.Set("Authorization", "Bearer "+c.token)
	}
	ws, resp, err := websocket.Dial(ctx, strings.Replace(c.base, "http", "ws", 1)+path, opts)
	if err != nil {
		if resp == nil {
			c.t.Fatalf("dial %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, body
	}
	ws.SetReadLimit(1 << 20)
	c.t.Cleanup(func() { ws.CloseNow() })
	return ws, http.StatusSwitchingProtocols, nil
}

// screen collects a terminal's output from a PTY WebSocket.
type screen struct {
	t    testing.TB
	ws   *websocket.Conn
	out  bytes.Buffer
	exit *api.PTYMessage
}

// terminal opens a PTY WebSocket (as dialWS does) and fails the test
// unless it is upgraded.
func (c *client) terminal(ctx context.Context, path string, bearer bool) *screen {
	c.t.Helper()
	ws, status, body := c.dialWS(ctx, path, bearer)
	if status != http.StatusSwitchingProtocols {
		c.t.Fatalf("pty %s: %d %s", path, status, body)
	}
	return &screen{t: c.t, ws: ws}
}

// until reads until the output contains want, failing after 15 s.
func (s *screen) until(ctx context.Context, want string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for !strings.Contains(s.out.String(), want) {
		if !s.next(ctx) {
			s.t.Fatalf("terminal ended before printing %q; output:\n%q", want, s.out.String())
		}
	}
}

// next reads one message; it answers false after the exit message.
func (s *screen) next(ctx context.Context) bool {
	s.t.Helper()
	typ, msg, err := s.ws.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v; output so far:\n%q", err, s.out.String())
	}
	if typ == websocket.MessageBinary {
		s.out.Write(msg)
		return true
	}
	var m api.PTYMessage
	if err := json.Unmarshal(msg, &m); err != nil || m.Type != api.MessageExit || m.ExitCode == nil {
		s.t.Fatalf("unexpected text message %q", msg)
	}
	s.exit = &m
	return false
}

func (s *screen) typeLine(ctx context.Context, line string) {
	s.t.Helper()
	if err := s.ws.Write(ctx, websocket.MessageBinary, []byte(line+"\n")); err != nil {
		s.t.Fatal(err)
	}
}

// exitCode reads to the exit message and the normal close after it.
func (s *screen) exitCode(ctx context.Context) int {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for s.exit == nil {
		s.next(ctx)
	}
	_, _, err := s.ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		s.t.Errorf("after the exit message: %v, want a normal close", err)
	}
	return *s.exit.ExitCode
}

func TestPTYWebSocket(t *testing.T) {
	t.Parallel()
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", Env: map[string]string{"BOXVAR": "from-box"}})
	ctx := context.Background()
	base := "/v1/hogboxes/" + b.ID + "/pty"

	// The token as ?token=, as a browser would; busybox has no bash, so
	// the default shell is /bin/sh.
	s := c.terminal(ctx, base+"?cols=100&rows=30&env=GREETING=hi&workdir=/tmp&token="+url.QueryEscape(p.Token), false)
	s.typeLine(ctx, "echo $((6*7))")
	s.until(ctx, "42\r\n")
	s.typeLine(ctx, `echo "T=$TERM G=$GREETING B=$BOXVAR D=$(pwd) S=$(stty size) $0"`)
	s.until(ctx, "T=xterm-256color G=hi B=from-box D=/tmp S=30 100 /bin/sh")
	resize, _ := json.Marshal(api.PTYMessage{Type: api.MessageResize, Cols: 132, Rows: 43})
	if err := s.ws.Write(ctx, websocket.MessageText, resize); err != nil {
		t.Fatal(err)
	}
	s.typeLine(ctx, "stty size")
	s.until(ctx, "43 132\r\n")
	s.typeLine(ctx, "exit 5")
	if code := s.exitCode(ctx); code != 5 {
		t.Errorf("exit code %d, want 5", code)
	}

	// The bearer header works too, and so does argv; a signal is -1.
	s = c.terminal(ctx, base+"?argv=sh&argv=-c&argv="+url.QueryEscape("echo ready; exec sleep 600"), true)
	s.until(ctx, "ready")
	// "ready" comes before the exec: wait until sleep runs.
	c.sh(b.ID, "until killall -9 sleep 2>/dev/null; do usleep 20000; done")
	if code := s.exitCode(ctx); code != -1 {
		t.Errorf("killed: exit code %d, want -1", code)
	}
}

func TestPTYWebSocketErrors(t *testing.T) {
	t.Parallel()
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	ctx := context.Background()
	base := "/v1/hogboxes/" + b.ID + "/pty"

	// Not a WebSocket: an ordinary problem.
	c.problem("GET", base, nil, 400)

	for _, tc := range []struct {
		query  string
		status int
		detail string
	}{
		{"?argv=no-such-program", 400, "executable not found"},
		{"?workdir=/nope", 400, "does not exist"},
		{"?cols=0", 400, "cols must be"},
		{"?env=NOEQUALS", 400, "NAME=VALUE"},
	} {
		_, status, body := c.dialWS(ctx, base+tc.query, true)
		pr := checkProblem(t, "pty"+tc.query, status, body, tc.status)
		if !strings.Contains(pr.Detail, tc.detail) {
			t.Errorf("pty%s: detail %q, want %q", tc.query, pr.Detail, tc.detail)
		}
	}
	// No credential, and another principal's credential.
	anon := p.client("")
	_, status, body := anon.dialWS(ctx, base, false)
	checkProblem(t, "pty without a token", status, body, 401)
	other := p.newPrincipal("other")
	_, status, body = other.dialWS(ctx, base+"?token="+url.QueryEscape(other.token), false)
	checkProblem(t, "pty of another principal", status, body, 404)

	// Closing the socket hangs the terminal up: its processes die.
	s := c.terminal(ctx, base, true)
	s.typeLine(ctx, "sleep 777 & echo start''ed")
	s.until(ctx, "started")
	s.ws.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(c.sh(b.ID, "ps"), "sleep 777") {
		if time.Now().After(deadline) {
			t.Fatal("the terminal's processes outlived the socket")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPTYKeepsBoxBusy holds a terminal open, silent, for longer than the
// box's idle TTL: the box must not be reaped under it.
func TestPTYKeepsBoxBusy(t *testing.T) {
	t.Parallel()
	p := startPlane(t)
	c := p.client(p.Token)
	ttl := int64(10)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", TTLSeconds: &ttl})
	ctx := context.Background()
	s := c.terminal(ctx, "/v1/hogboxes/"+b.ID+"/pty", true)
	time.Sleep(14 * time.Second)
	var got api.Box
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if got.Status != api.StatusRunning {
		t.Fatalf("box with an open terminal is %s (%s)", got.Status, got.TerminationReason)
	}
	s.typeLine(ctx, "echo sti''ll-here")
	s.until(ctx, "still-here")
	s.typeLine(ctx, "exit")
	if code := s.exitCode(ctx); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestArchiveRoundTripE2E(t *testing.T) {
	t.Parallel()
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	mtime := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	entries := []struct {
		hdr  tar.Header
		data string
	}{
		{tar.Header{Typeflag: tar.TypeDir, Name: "proj/", Mode: 0o750}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: "proj/README", Mode: 0o644}, "read me\n"},
		{tar.Header{Typeflag: tar.TypeDir, Name: "proj/bin/", Mode: 0o755}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: "proj/bin/run", Mode: 0o4755}, "#!/bin/sh\necho run\n"},
		{tar.Header{Typeflag: tar.TypeDir, Name: "proj/empty/", Mode: 0o700}, ""},
		{tar.Header{Typeflag: tar.TypeSymlink, Name: "proj/link", Linkname: "README"}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: "proj/secret", Mode: 0o600}, strings.Repeat("s", 100000)},
	}
	var in bytes.Buffer
	var size int64
	tw := tar.NewWriter(&in)
	for _, e := range entries {
		size += int64(len(e.data))
		h := e.hdr
		h.ModTime, h.Size = mtime, int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	// Up: extracted into a directory made on the way.
	resp := c.request("PUT", "/v1/hogboxes/"+b.ID+"/archive?mkdir=true&path="+url.QueryEscape("/root/up/here"),
		bytes.NewReader(in.Bytes()), map[string]string{"Content-Type": "application/x-tar"})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("put archive: %d %s", resp.StatusCode, body)
	}
	var info api.ArchiveInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	if info.Files != 3 || info.Dirs != 3 || info.Symlinks != 1 || info.Bytes != size {
		t.Errorf("info %+v", info)
	}
	got := c.sh(b.ID, "cd /root/up/here/proj && stat -c '%n %a %Y' README bin/run empty secret . && readlink link && ./bin/run")
	want := fmt.Sprintf("README 644 %[1]d\nbin/run 4755 %[1]d\nempty 700 %[1]d\nsecret 600 %[1]d\n. 750 %[1]d\nREADME\nrun\n", mtime.Unix())
	if got != want {
		t.Errorf("in the box:\n%s\nwant:\n%s", got, want)
	}

	// Down: the same tree comes back, names under the directory's base name.
	resp = c.request("GET", "/v1/hogboxes/"+b.ID+"/archive?path=/root/up/here/proj", nil, nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Fatalf("get archive: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	tr := tar.NewReader(resp.Body)
	n := 0
	for ; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		var w *tar.Header
		var wdata string
		for _, e := range entries {
			if e.hdr.Name == h.Name {
				w, wdata = &e.hdr, e.data
			}
		}
		switch {
		case w == nil:
			t.Errorf("unexpected entry %q", h.Name)
		case h.Typeflag != w.Typeflag || h.Linkname != w.Linkname || string(data) != wdata:
			t.Errorf("%s: got type %c link %q %d bytes", h.Name, h.Typeflag, h.Linkname, len(data))
		case h.Typeflag != tar.TypeSymlink && (h.Mode != w.Mode || !h.ModTime.Equal(mtime)):
			t.Errorf("%s: mode %o mtime %s, want %o %s", h.Name, h.Mode, h.ModTime, w.Mode, mtime)
		}
	}
	if n != len(entries) {
		t.Errorf("%d entries came back, want %d", n, len(entries))
	}

	// Entries that try to leave the target are refused.
	var evil bytes.Buffer
	tw = tar.NewWriter(&evil)
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "esc", Linkname: "/etc"})
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "esc/evil", Mode: 0o644})
	_ = tw.Close()
	resp = c.request("PUT", "/v1/hogboxes/"+b.ID+"/archive?mkdir=true&path=/root/evil", &evil,
		map[string]string{"Content-Type": "application/x-tar"})
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	checkProblem(t, "escaping archive", resp.StatusCode, body, 400)
	if res := c.exec(b.ID, api.ExecRequest{Argv: []string{"test", "-e", "/etc/evil"}}); res.ExitCode == 0 {
		t.Error("/etc/evil was written through a symlink")
	}
	c.problem("GET", "/v1/hogboxes/"+b.ID+"/archive?path=/no/such", nil, 404)
	c.problem("GET", "/v1/hogboxes/"+b.ID+"/archive?path=relative", nil, 400)
}

func TestTunnel(t *testing.T) {
	t.Parallel()
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	ctx := context.Background()
	tunnel := "/v1/hogboxes/" + b.ID + "/ports/%d/tunnel"

	// Nothing listens yet: a 502 problem before the upgrade.
	_, status, body := c.dialWS(ctx, fmt.Sprintf(tunnel, 7000), true)
	pr := checkProblem(t, "tunnel to a closed port", status, body, 502)
	if !strings.Contains(pr.Detail, "nothing is listening on port 7000") {
		t.Errorf("detail %q", pr.Detail)
	}

	// An echo server: busybox nc runs cat for every connection.
	c.sh(b.ID, "nc -ll -p 7000 -e cat </dev/null >/dev/null 2>&1 &")
	var ws *websocket.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, status, body = c.dialWS(ctx, fmt.Sprintf(tunnel, 7000)+"?token="+url.QueryEscape(p.Token), false)
		if status == http.StatusSwitchingProtocols {
			break
		}
		if status != 502 || time.Now().After(deadline) {
			t.Fatalf("tunnel: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := bytes.Repeat([]byte("echo through the tunnel\n"), 10000) // 240 KB, several messages
	go func() {
		_ = ws.Write(ctx, websocket.MessageBinary, msg[:len(msg)/2])
		_ = ws.Write(ctx, websocket.MessageBinary, msg[len(msg)/2:])
		eof, _ := json.Marshal(api.TunnelMessage{Type: api.MessageEOF})
		_ = ws.Write(ctx, websocket.MessageText, eof)
	}()
	// cat echoes everything, reads EOF, exits; nc closes; the server says
	// eof and, both directions done, closes normally.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var got []byte
	sawEOF := false
	for {
		typ, data, err := ws.Read(rctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("tunnel ended with %v after %d bytes", err, len(got))
			}
			break
		}
		if typ == websocket.MessageText {
			var m api.TunnelMessage
			if json.Unmarshal(data, &m) != nil || m.Type != api.MessageEOF {
				t.Fatalf("unexpected text message %q", data)
			}
			sawEOF = true
			continue
		}
		if sawEOF {
			t.Fatal("data after eof")
		}
		got = append(got, data...)
	}
	if !bytes.Equal(got, msg) || !sawEOF {
		t.Errorf("echoed %d bytes (eof %v), want %d", len(got), sawEOF, len(msg))
	}

	c.problem("GET", fmt.Sprintf(tunnel, 7000), nil, 400) // not a WebSocket
	_, status, body = c.dialWS(ctx, fmt.Sprintf(tunnel, 70000), true)
	checkProblem(t, "tunnel to port 70000", status, body, 400)
}
