package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/PostHog/hogland/api"
)

var (
	boxServerOnce sync.Once
	boxServerPath string
	boxServerErr  error
)

// boxServer builds the test HTTP server that runs inside boxes.
func boxServer(t testing.TB) string {
	t.Helper()
	boxServerOnce.Do(func() {
		boxServerPath = filepath.Join(bins(t), "boxserver")
		cmd := exec.Command("go", "build", "-o", boxServerPath, "./testdata/boxserver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			boxServerErr = fmt.Errorf("build boxserver: %v\n%s", err, out)
		}
	})
	if boxServerErr != nil {
		t.Fatal(boxServerErr)
	}
	return boxServerPath
}

// serveInBox uploads the test server into a box, starts it on port and
// waits until the proxy reaches it.
func serveInBox(t *testing.T, c *client, id string, port int) {
	t.Helper()
	f, err := os.Open(boxServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if status, body := c.writeFile(id, "/srv/boxserver", f, "&mode=0755&mkdir=true"); status != 200 {
		t.Fatalf("upload boxserver: %d %s", status, body)
	}
	c.sh(id, fmt.Sprintf("/srv/boxserver -addr 127.0.0.1:%d >/tmp/boxserver.log 2>&1 &", port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := c.request("GET", fmt.Sprintf("/v1/hogboxes/%s/proxy/%d/echo/", id, port), nil, nil)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server in box never answered through the proxy: last status %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type echoed struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	RawPath string              `json:"raw_path"`
	Query   string              `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

func TestProxyHTTP(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	serveInBox(t, c, b.ID, 8080)
	base := "/v1/hogboxes/" + b.ID + "/proxy/8080"

	t.Run("methods, path, query and body pass; the credential does not", func(t *testing.T) {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			resp := c.request(m, base+"/echo/a%2Fb/c?x=1&y=two", strings.NewReader("payload-"+m), map[string]string{"X-Custom": "v"})
			var e echoed
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			resp.Body.Close()
			if e.Method != m || e.Path != "/echo/a/b/c" || e.RawPath != "/echo/a%2Fb/c" || e.Query != "x=1&y=two" || e.Body != "payload-"+m {
				t.Errorf("%s echoed %+v", m, e)
			}
			if len(e.Headers["Authorization"]) != 0 {
				t.Errorf("the API token reached the box: %v", e.Headers["Authorization"])
			}
			if e.Headers["X-Custom"][0] != "v" || e.Headers["X-Forwarded-Prefix"][0] != base {
				t.Errorf("headers %v", e.Headers)
			}
		}
	})
	t.Run("?token= works and is stripped", func(t *testing.T) {
		anon := p.client("")
		resp := anon.request("GET", base+"/echo/?a=1&token="+p.Token+"&b=2", nil, nil)
		var e echoed
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 200 || e.Query != "a=1&b=2" {
			t.Errorf("status %d, query in box %q", resp.StatusCode, e.Query)
		}
	})
	t.Run("no or wrong credential", func(t *testing.T) {
		anon := p.client("")
		anon.problem("GET", base+"/echo/", nil, 401)
		other := p.newPrincipal("mallory")
		other.problem("GET", base+"/echo/", nil, 404)
	})
	t.Run("closed port is 502", func(t *testing.T) {
		pr := c.problem("GET", "/v1/hogboxes/"+b.ID+"/proxy/9999/", nil, 502)
		if !strings.Contains(pr.Detail, "9999") {
			t.Errorf("detail %q", pr.Detail)
		}
	})
	t.Run("SSE arrives unbuffered", func(t *testing.T) {
		resp := c.request("GET", base+"/sse?n=5&every=1s", nil, nil)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var arrivals []time.Time
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data:") {
				arrivals = append(arrivals, time.Now())
			}
		}
		if len(arrivals) != 5 {
			t.Fatalf("%d events, want 5", len(arrivals))
		}
		if gap := arrivals[4].Sub(arrivals[0]); gap < 3500*time.Millisecond {
			t.Errorf("events came in a burst (%s from first to last): the proxy buffered them", gap)
		}
	})
	t.Run("WebSocket echo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, strings.Replace(p.URL, "http", "ws", 1)+base+"/ws?token="+p.Token, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer ws.CloseNow()
		for i := 0; i < 3; i++ {
			msg := fmt.Sprintf("hello %d", i)
			if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			_, got, err := ws.Read(ctx)
			if err != nil || string(got) != msg {
				t.Fatalf("read %q, %v; want %q", got, err, msg)
			}
		}
		ws.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("100 MiB streams with bounded plane memory", func(t *testing.T) {
		const size = 100 << 20
		before := rssKiB(t, p.cmd.Process.Pid, "VmRSS")
		resp := c.request("GET", base+"/big?n="+strconv.Itoa(size), nil, nil)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != size {
			t.Fatalf("read %d bytes, err %v", n, err)
		}
		if grew := rssKiB(t, p.cmd.Process.Pid, "VmRSS") - before; grew > 40<<10 {
			t.Errorf("hogplane RSS grew by %d MiB streaming 100 MiB", grew>>10)
		}
	})
}

func rssKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func TestProxyAccessAndPreviewTokens(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	other := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	serveInBox(t, c, b.ID, 8080)
	serveInBox(t, c, b.ID, 8081)
	anon := p.client("")

	var tok api.PreviewToken
	c.must("POST", "/v1/hogboxes/"+b.ID+"/proxy-tokens", api.CreatePreviewTokenRequest{Port: 8080}, &tok, 201)
	if !strings.HasPrefix(tok.Token, "ptk_") || !strings.Contains(tok.URL, "/proxy/8080/?token=ptk_") {
		t.Fatalf("preview token %+v", tok)
	}
	get := func(path string) int {
		resp := anon.request("GET", path, nil, nil)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/v1/hogboxes/" + b.ID + "/proxy/8080/echo/?token=" + tok.Token); s != 200 {
		t.Errorf("preview token on its port: %d", s)
	}
	if s := get("/v1/hogboxes/" + b.ID + "/proxy/8081/echo/?token=" + tok.Token); s != 403 {
		t.Errorf("preview token on another port: %d, want 403", s)
	}
	if s := get("/v1/hogboxes/" + other.ID + "/proxy/8080/echo/?token=" + tok.Token); s != 403 {
		t.Errorf("preview token on another box: %d, want 403", s)
	}
	// A preview token is no API token.
	pt := p.client(tok.Token)
	pt.problem("GET", "/v1/hogboxes/"+b.ID, nil, 401)

	var short api.PreviewToken
	c.must("POST", "/v1/hogboxes/"+b.ID+"/proxy-tokens", api.CreatePreviewTokenRequest{Port: 8080, ExpiresInSeconds: 1}, &short, 201)
	time.Sleep(1500 * time.Millisecond)
	if s := get("/v1/hogboxes/" + b.ID + "/proxy/8080/echo/?token=" + short.Token); s != 401 {
		t.Errorf("expired preview token: %d, want 401", s)
	}

	c.must("DELETE", "/v1/hogboxes/"+b.ID+"/proxy-tokens/"+tok.ID, nil, nil, 204)
	if s := get("/v1/hogboxes/" + b.ID + "/proxy/8080/echo/?token=" + tok.Token); s != 401 {
		t.Errorf("revoked preview token: %d, want 401", s)
	}
	var list api.PreviewTokenList
	c.must("GET", "/v1/hogboxes/"+b.ID+"/proxy-tokens", nil, &list, 200)
	if len(list.Items) != 2 || list.Items[0].Token != "" || list.Items[1].RevokedAt == nil {
		t.Errorf("token list %+v", list.Items)
	}
	c.problem("POST", "/v1/hogboxes/"+b.ID+"/proxy-tokens", api.CreatePreviewTokenRequest{Port: 0}, 400)

	// A public box needs no credential.
	pub := c.createBox(api.CreateBoxRequest{Image: "busybox", AccessType: "public"})
	serveInBox(t, c, pub.ID, 8080)
	if s := get("/v1/hogboxes/" + pub.ID + "/proxy/8080/echo/"); s != 200 {
		t.Errorf("public box without credential: %d", s)
	}

	// A paused box answers 409 with Retry-After, not a hang.
	c.must("POST", "/v1/hogboxes/"+b.ID+"/pause", nil, nil, 200)
	resp := c.request("GET", "/v1/hogboxes/"+b.ID+"/proxy/8080/echo/", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != 409 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("proxy to a paused box: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
