package panion_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion"
	"github.com/PostHog/hogland/internal/panion/client"
)

// TestMain lets the test binary stand in for the hogpanion binary: the
// server starts processes through its child mode, and the init tests run
// it as `init` (which runs it again as `serve`).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "init", "serve", "__child", "__oomprobe":
			os.Exit(panion.Main(os.Args[1:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(m.Run())
}

// agent is an in-process agent serving on a Unix socket, and a client.
type agent struct {
	c    *client.Client
	srv  *panion.Server
	sock string
}

// startAgent runs a Server on a fresh Unix socket until the test ends.
// mod, when set, adjusts the Config first.
func startAgent(t testing.TB, mod func(*panion.Config)) *agent {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := panion.Config{
		Version:  "test",
		ChildExe: exe,
		// The probe starts the (race-built) test binary once more: only
		// the tests of the fork mode ask for it.
		NoForkReset: true,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if mod != nil {
		mod(&cfg)
	}
	sock := filepath.Join(shortTempDir(t), "a.sock")
	ln, err := panion.Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := panion.NewServer(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	c := client.New(unixDialer(sock))
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &agent{c: c, srv: srv, sock: sock}
}

// shortTempDir is a temp dir with a path short enough for a Unix socket.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func unixDialer(sock string) client.DialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
}

// rawHTTP is a plain HTTP client for the agent, for requests the client
// package would never send.
func (a *agent) rawHTTP() *http.Client {
	dial := unixDialer(a.sock)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
	}}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sh(script string) api.ExecRequest {
	return api.ExecRequest{Argv: []string{"sh", "-c", script}}
}

// wantKind fails the test unless err is an *errs.Error of kind k whose
// detail contains detail.
func wantKind(t testing.TB, err error, k errs.Kind, detail string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *errs.Error of kind %v", err, err, k)
	}
	if e.Kind != k {
		t.Fatalf("error kind = %v (%q), want %v", e.Kind, e.Detail, k)
	}
	if !strings.Contains(e.Detail, detail) {
		t.Fatalf("error detail = %q, want it to contain %q", e.Detail, detail)
	}
}

// pidFrom parses the first line of s as a pid.
func pidFrom(t testing.TB, s string) int {
	t.Helper()
	line, _, _ := strings.Cut(s, "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 1 {
		t.Fatalf("no pid in output %q", s)
	}
	return pid
}

// processState is the state letter of pid ("" when it does not exist).
func processState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

// waitDead waits until pid is gone or a zombie (killed, not yet reaped).
func waitDead(t testing.TB, pid int, within time.Duration) {
	t.Helper()
	waitFor(t, within, "pid "+strconv.Itoa(pid)+" to die", func() bool {
		st := processState(pid)
		return st == "" || st == "Z"
	})
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readAll reads r to the end, failing the test on error.
func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
