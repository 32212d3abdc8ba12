package panion_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion"
	"github.com/PostHog/hogland/internal/panion/client"
)

// Bad requests get problem details with the right status and type, and
// the server keeps serving.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	hc := a.rawHTTP()
	tests := []struct {
		name, method, path, body string
		header                   http.Header
		status                   int
		kind                     errs.Kind
		detail                   string
	}{
		{"bad JSON", "POST", "/v1/exec", `{"argv": [`, nil, 400, errs.Invalid, "bad JSON"},
		{"not an object", "POST", "/v1/exec", `["true"]`, nil, 400, errs.Invalid, "bad JSON"},
		{"unknown field", "POST", "/v1/exec", `{"argv":["true"],"nope":1}`, nil, 400, errs.Invalid, `unknown field "nope"`},
		{"trailing data", "POST", "/v1/exec", `{"argv":["true"]} {}`, nil, 400, errs.Invalid, "unexpected data"},
		{"empty body", "POST", "/v1/execs", ``, nil, 400, errs.Invalid, "body is empty"},
		{"wrong type", "POST", "/v1/execs", `{"argv":"true"}`, nil, 400, errs.Invalid, "bad JSON"},
		{"wrong method", "GET", "/v1/exec", ``, nil, 405, errs.Invalid, "use POST"},
		{"wrong method on files", "DELETE", "/v1/files?path=/x", ``, nil, 405, errs.Invalid, "use GET or PUT"},
		{"unknown path", "GET", "/v2/nothing", ``, nil, 404, errs.NotFound, "no such endpoint"},
		{"bad mode", "PUT", "/v1/files?path=/tmp/x&mode=999", `x`, nil, 400, errs.Invalid, "mode must be octal"},
		{"bad mkdir", "PUT", "/v1/files?path=/tmp/x&mkdir=maybe", `x`, nil, 400, errs.Invalid, "mkdir must be"},
		{"missing path", "GET", "/v1/files", ``, nil, 400, errs.Invalid, "path is required"},
		{"bad after", "GET", "/v1/execs/exe-x/events?after=-1", ``, nil, 404, errs.NotFound, "no exec"},
		{"relay without upgrade", "GET", "/v1/relay?port=80", ``, nil, 400, errs.Invalid, "Upgrade: tcp"},
		{"bad signal body", "POST", "/v1/execs/exe-x/signal", `{`, nil, 404, errs.NotFound, "no exec"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(ctxT(t), tc.method, "http://agent"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p api.Problem
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatalf("status %d, body is not problem details: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.status || p.Status != tc.status || p.Type != tc.kind.Type() ||
				resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("got %d %s %+v, want %d %v %q", resp.StatusCode, resp.Header.Get("Content-Type"), p, tc.status, tc.kind, tc.detail)
			}
		})
	}
	if _, err := a.c.Health(ctxT(t)); err != nil {
		t.Fatalf("agent unhealthy after bad requests: %v", err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	h, err := a.c.Health(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != "test" || h.PID != os.Getpid() || h.UptimeMS < 0 {
		t.Fatalf("health %+v", h)
	}
}

// The client reuses its connections.
func TestClientReusesConnections(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	dials := 0
	c := client.New(func(ctx context.Context) (net.Conn, error) {
		dials++
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.sock)
	})
	defer c.Close()
	for range 10 {
		if _, err := c.Exec(ctxT(t), api.ExecRequest{Argv: []string{"true"}}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteFile(ctxT(t), filepath.Join(t.TempDir(), "f"), 0, false, bytes.NewReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	if dials != 1 {
		t.Fatalf("%d dials for 20 sequential calls, want 1", dials)
	}
}

// The client reports an agent that cannot be reached as Unavailable.
func TestClientUnreachable(t *testing.T) {
	t.Parallel()
	c := client.New(unixDialer(filepath.Join(shortTempDir(t), "none.sock")))
	_, err := c.Health(ctxT(t))
	wantKind(t, err, errs.Unavailable, "did not answer")
}

func TestListen(t *testing.T) {
	t.Parallel()
	dir := shortTempDir(t)
	t.Run("stale socket is replaced", func(t *testing.T) {
		sock := filepath.Join(dir, "stale.sock")
		old, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		old.Close()
		ln, err := panion.Listen("unix:" + sock)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("socket %v %v, want mode 0600", st, err)
		}
	})
	t.Run("a regular file is not removed", func(t *testing.T) {
		path := filepath.Join(dir, "file")
		if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := panion.Listen("unix:" + path); err == nil {
			t.Fatal("listened over a regular file")
		}
		if b, _ := os.ReadFile(path); string(b) != "keep" {
			t.Fatal("file clobbered")
		}
	})
	t.Run("tcp", func(t *testing.T) {
		ln, err := panion.Listen("tcp:127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := panion.NewServer(panion.Config{Version: "tcp", Logger: slog.New(slog.DiscardHandler)})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, ln) }()
		defer func() { cancel(); <-done }()
		c := client.New(func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", ln.Addr().String())
		})
		defer c.Close()
		if h, err := c.Health(ctxT(t)); err != nil || h.Version != "tcp" {
			t.Fatalf("health over tcp: %+v %v", h, err)
		}
	})
	for _, spec := range []string{"", "unix:", "udp:1.2.3.4:5", "nocolon"} {
		if _, err := panion.Listen(spec); err == nil {
			t.Errorf("Listen(%q) succeeded", spec)
		}
	}
}

func TestMainUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "usage"},
		{[]string{"bogus"}, 2, "unknown mode"},
		{[]string{"version"}, 0, "hogpanion"},
		{[]string{"help"}, 0, "-listen"},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, "unexpected arguments"},
		{[]string{"serve", "--listen", "bogus:x"}, 1, "unknown network"},
		{[]string{"init", "--log-level", "loud"}, 2, "log-level"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		code := panion.Main(tc.args, &out, &out)
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("Main(%q) = %d %q, want %d and %q", tc.args, code, out.String(), tc.code, tc.out)
		}
	}
}
