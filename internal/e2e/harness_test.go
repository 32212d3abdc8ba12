// Package e2e drives a real hogplane binary on loopback, with real runc
// boxes, over HTTP, the way a user would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/runtime/oci"
	"github.com/PostHog/hogland/internal/syncbuf"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// bins builds hogplane and hogpanion once per test binary.
func bins(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "hogland-e2e-bin-")
		if binErr != nil {
			return
		}
		for _, c := range []string{"hogplane", "hogpanion"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, c), "github.com/PostHog/hogland/cmd/"+c)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("build %s: %v\n%s", c, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

// imageCache is shared by all tests so images are built once.
func imageCache() string {
	if d := os.Getenv("HOGLAND_IMAGE_CACHE"); d != "" {
		return d
	}
	return "/var/cache/hogland/images"
}

// plane is a running hogplane process.
type plane struct {
	t       testing.TB
	DataDir string
	URL     string
	Token   string
	cmd     *exec.Cmd
	logs    *syncbuf.Buffer
	exited  chan struct{}
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("hogplane needs root to run boxes (runc, mounts, cgroups)")
	}
}

// startPlane starts hogplane on a fresh data dir; it is stopped (SIGTERM)
// and every box destroyed at cleanup.
func startPlane(t testing.TB) *plane {
	t.Helper()
	requireRoot(t)
	return startPlaneAt(t, t.TempDir())
}

func startPlaneAt(t testing.TB, dataDir string) *plane {
	t.Helper()
	return startPlaneOpts(t, dataDir, planeOptions{})
}

// planeOptions are extra settings of a test hogplane.
type planeOptions struct {
	// Args are extra hogplane serve flags.
	Args []string
}

// startPlaneWith is startPlane with extra settings.
func startPlaneWith(t testing.TB, o planeOptions) *plane {
	t.Helper()
	requireRoot(t)
	return startPlaneOpts(t, t.TempDir(), o)
}

func startPlaneOpts(t testing.TB, dataDir string, o planeOptions) *plane {
	t.Helper()
	dir := bins(t)
	p := &plane{t: t, DataDir: dataDir, logs: &syncbuf.Buffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--data-dir", dataDir,
		"--listen", "127.0.0.1:0", "--image-dir", imageCache(), "--log-json=false", "--warm-pool=none"}, o.Args...)
	p.cmd = exec.Command(filepath.Join(dir, "hogplane"), args...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if _, after, ok := strings.Cut(line, " serving on "); ok {
				urlc <- strings.TrimSpace(after)
			}
		}
	}()
	select {
	case p.URL = <-urlc:
	case <-p.exited:
		t.Fatalf("hogplane exited at start:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("hogplane did not start:\n%s", p.logs)
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	p.Token = strings.TrimSpace(string(tok))
	t.Cleanup(func() {
		p.destroyAll()
		p.stop(syscall.SIGTERM)
		removeLeftovers(t, dataDir)
		if t.Failed() {
			t.Logf("hogplane log:\n%s", p.logs)
		}
	})
	return p
}

// removeLeftovers destroys, through the driver itself, any box a stopped
// plane still holds (boxes of principals the test made without keeping
// their credentials), so no test leaves processes, mounts or cgroups.
func removeLeftovers(t testing.TB, dataDir string) {
	t.Helper()
	d, err := oci.New(oci.Config{StateDir: filepath.Join(dataDir, "oci")})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	if err := d.Cleanup(context.Background(), nil); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	_ = os.Remove(d.Config().RunDir) // only if empty; a restarted plane may share it
}

// stop signals hogplane and waits for it to exit.
func (p *plane) stop(sig syscall.Signal) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// destroyAll deletes every live box of every principal this test made.
func (p *plane) destroyAll() {
	select {
	case <-p.exited:
		return
	default:
	}
	c := p.client(p.Token)
	for _, tok := range append([]string{p.Token}, p.extraTokens()...) {
		c.token = tok
		var list api.BoxList
		if c.do("GET", "/v1/hogboxes?status=creating,running,paused&limit=500", nil, &list) != 200 {
			continue
		}
		for _, b := range list.Items {
			c.do("DELETE", "/v1/hogboxes/"+b.ID, nil, nil)
		}
	}
}

var tokensMu sync.Mutex
var tokensByPlane = map[*plane][]string{}

func (p *plane) extraTokens() []string {
	tokensMu.Lock()
	defer tokensMu.Unlock()
	return tokensByPlane[p]
}

// newPrincipal makes a principal and returns a client holding its token.
func (p *plane) newPrincipal(name string) *client {
	p.t.Helper()
	admin := p.client(p.Token)
	var pr api.Principal
	admin.must("POST", "/v1/principals", api.CreatePrincipalRequest{Name: name}, &pr, 201)
	var tok api.Token
	admin.must("POST", "/v1/principals/"+pr.ID+"/tokens", api.CreateTokenRequest{Name: "test"}, &tok, 201)
	tokensMu.Lock()
	tokensByPlane[p] = append(tokensByPlane[p], tok.Token)
	tokensMu.Unlock()
	return p.client(tok.Token)
}

// client is a thin JSON-over-HTTP helper for tests.
type client struct {
	t     testing.TB
	base  string
	token string
	http  *http.Client
}

func (p *plane) client(token string) *client {
	return &client{t: p.t, base: p.URL, token: token, http: &http.Client{Timeout: 5 * time.Minute}}
}

// request sends a request with a raw body and returns the response.
func (c *client) request(method, path string, body io.Reader, hdr map[string]string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// do sends a JSON request and decodes a JSON answer into out (when not
// nil and the status is 2xx); it returns the status.
func (c *client) do(method, path string, in, out any) int {
	c.t.Helper()
	status, body := c.raw(method, path, in)
	if out != nil && status/100 == 2 && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, body, err)
		}
	}
	return status
}

// send sends a JSON request (no body when in is nil) and returns the
// response.
func (c *client) send(method, path string, in any) *http.Response {
	c.t.Helper()
	var body io.Reader
	hdr := map[string]string{}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
		hdr["Content-Type"] = "application/json"
	}
	return c.request(method, path, body, hdr)
}

// raw sends a JSON request and returns the status and body.
func (c *client) raw(method, path string, in any) (int, []byte) {
	c.t.Helper()
	resp := c.send(method, path, in)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// must is do that fails the test on any status but want.
func (c *client) must(method, path string, in, out any, want int) {
	c.t.Helper()
	status, body := c.raw(method, path, in)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, body)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, body, err)
		}
	}
}

// problem sends a request expecting an error and returns its problem body,
// checking it is well formed.
func (c *client) problem(method, path string, in any, want int) api.Problem {
	c.t.Helper()
	status, body := c.raw(method, path, in)
	return checkProblem(c.t, method+" "+path, status, body, want)
}

func checkProblem(t testing.TB, what string, status int, body []byte, want int) api.Problem {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, status, want, body)
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: not problem details: %q", what, body)
	}
	if p.Status != want || p.Type == "" || p.Title == "" || p.Detail == "" || p.RequestID == "" {
		t.Fatalf("%s: incomplete problem details: %s", what, body)
	}
	return p
}

// createBox creates a box and fails the test unless it is running.
func (c *client) createBox(req api.CreateBoxRequest) api.Box {
	c.t.Helper()
	var b api.Box
	c.must("POST", "/v1/hogboxes", req, &b, 201)
	if b.Status != api.StatusRunning {
		c.t.Fatalf("created box %s is %s, want running", b.ID, b.Status)
	}
	return b
}

// exec runs argv in a box and returns the result.
func (c *client) exec(id string, req api.ExecRequest) api.ExecResult {
	c.t.Helper()
	var res api.ExecResult
	c.must("POST", "/v1/hogboxes/"+id+"/exec", req, &res, 200)
	return res
}

// sh runs a shell command in a box and returns its stdout, failing the
// test on a non-zero exit.
func (c *client) sh(id, script string) string {
	c.t.Helper()
	res := c.exec(id, api.ExecRequest{Argv: []string{"sh", "-c", script}})
	if res.ExitCode != 0 {
		c.t.Fatalf("sh %q in %s: exit %d\nstdout: %s\nstderr: %s", script, id, res.ExitCode, res.Stdout, res.Stderr)
	}
	return res.Stdout
}
