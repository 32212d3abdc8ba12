package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
)

// TestBadInput checks that every kind of bad request gets problem details
// with the right status, and that none of them makes a box.
func TestBadInput(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	box := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	exec := "/v1/hogboxes/" + box.ID + "/exec"
	cases := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		want        int
		detail      string
	}{
		{"unknown field", "POST", "/v1/hogboxes", `{"image":"busybox","cpu":2}`, "", 400, "cpu"},
		{"malformed JSON", "POST", "/v1/hogboxes", `{"image":`, "", 400, "JSON"},
		{"empty body", "POST", "/v1/hogboxes", ``, "", 400, "empty"},
		{"trailing data", "POST", "/v1/hogboxes", `{} {}`, "", 400, "after"},
		{"wrong type", "POST", "/v1/hogboxes", `{"cpus":"four"}`, "", 400, "cpus"},
		{"null body", "PATCH", "/v1/hogboxes/" + box.ID, " \n null", "", 400, "must be a JSON object, got null"},
		{"array body", "POST", "/v1/hogboxes", `[{"image":"busybox"}]`, "", 400, "must be a JSON object, got an array"},
		{"string body", "POST", exec, `"true"`, "", 400, "must be a JSON object, got a string"},
		{"number body", "POST", exec, `-1`, "", 400, "must be a JSON object, got a number"},
		{"wrong content type", "POST", "/v1/hogboxes", `{}`, "text/plain", 415, "application/json"},
		{"cpus out of range", "POST", "/v1/hogboxes", `{"image":"busybox","cpus":1000}`, "", 400, "cpus"},
		{"negative memory", "POST", "/v1/hogboxes", `{"image":"busybox","memory_mib":-5}`, "", 400, "memory_mib"},
		{"disk out of range", "POST", "/v1/hogboxes", `{"image":"busybox","disk_gib":100000}`, "", 400, "disk_gib"},
		{"ttl too short", "POST", "/v1/hogboxes", `{"image":"busybox","ttl_seconds":1}`, "", 400, "ttl_seconds"},
		{"unknown kind", "POST", "/v1/hogboxes", `{"image":"busybox","kind":"mystery"}`, "", 400, "kind"},
		{"unknown image", "POST", "/v1/hogboxes", `{"image":"windows"}`, "", 400, "image"},
		{"bad access type", "POST", "/v1/hogboxes", `{"image":"busybox","access_type":"everyone"}`, "", 400, "access_type"},
		{"bad name", "POST", "/v1/hogboxes", `{"image":"busybox","name":"no spaces allowed"}`, "", 400, "name"},
		{"bad tag", "POST", "/v1/hogboxes", `{"image":"busybox","tags":["novalue"]}`, "", 400, "tag"},
		{"bad env name", "POST", "/v1/hogboxes", `{"image":"busybox","env":{"A-B":"x"}}`, "", 400, "env"},
		{"empty argv", "POST", exec, `{"argv":[]}`, "", 400, "argv"},
		{"negative timeout", "POST", exec, `{"argv":["true"],"timeout_seconds":-1}`, "", 400, "timeout"},
		{"relative workdir", "POST", exec, `{"argv":["true"],"workdir":"tmp"}`, "", 400, "absolute"},
		{"missing box", "GET", "/v1/hogboxes/box-000000000000", ``, "", 404, "box-000000000000"},
		{"malformed box id", "GET", "/v1/hogboxes/../../etc/passwd", ``, "", 404, ""},
		{"unknown route", "GET", "/v1/nothing-here", ``, "", 404, "no such endpoint"},
		{"wrong method", "PUT", "/v1/hogboxes", `{}`, "", 405, "allowed"},
		{"file path traversal", "GET", "/v1/hogboxes/" + box.ID + "/files?path=/tmp/../../etc/shadow", ``, "", 400, ".."},
		{"file path missing", "GET", "/v1/hogboxes/" + box.ID + "/files", ``, "", 400, "path"},
		{"patch unknown field", "PATCH", "/v1/hogboxes/" + box.ID, `{"status":"running"}`, "", 400, "status"},
		{"patch ttl out of range", "PATCH", "/v1/hogboxes/" + box.ID, `{"ttl_seconds":0}`, "", 400, "ttl_seconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" && tc.body != "" {
				ct = "application/json"
			}
			hdr := map[string]string{}
			if ct != "" {
				hdr["Content-Type"] = ct
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			resp := c.request(tc.method, tc.path, body, hdr)
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if tc.want != 404 || tc.detail != "" {
				pr := checkProblem(t, tc.name, resp.StatusCode, raw, tc.want)
				if !strings.Contains(pr.Detail, tc.detail) {
					t.Errorf("detail %q does not mention %q", pr.Detail, tc.detail)
				}
			} else if resp.StatusCode != 404 {
				t.Errorf("status %d, want 404", resp.StatusCode)
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" && resp.StatusCode >= 400 {
				t.Errorf("content type %q", resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}

	t.Run("oversized JSON body", func(t *testing.T) {
		big := `{"argv":["echo","` + strings.Repeat("a", 2<<20) + `"]}`
		resp := c.request("POST", exec, strings.NewReader(big), map[string]string{"Content-Type": "application/json"})
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		checkProblem(t, "oversized", resp.StatusCode, raw, http.StatusRequestEntityTooLarge)
	})
	t.Run("oversized file", func(t *testing.T) {
		// Declare a body far over the limit; the answer must come from the
		// headers alone, before any of it is sent.
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "PUT /v1/hogboxes/%s/files?path=/tmp/huge HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
			box.ID, u.Host, p.Token, int64(64)<<30)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		checkProblem(t, "oversized file", resp.StatusCode, raw, http.StatusRequestEntityTooLarge)
	})

	// None of that made a box.
	var list api.BoxList
	c.must("GET", "/v1/hogboxes", nil, &list, 200)
	if len(list.Items) != 1 {
		t.Errorf("%d boxes after bad input, want 1", len(list.Items))
	}
	// The request id a caller sends comes back.
	resp := c.request("GET", "/v1/hogboxes/box-000000000000", nil, map[string]string{"X-Request-Id": "my-req-1"})
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "my-req-1" || !bytes.Contains(raw, []byte(`"request_id":"my-req-1"`)) {
		t.Errorf("request id not echoed: %v %s", resp.Header.Get("X-Request-Id"), raw)
	}
}
