package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/PostHog/hogland/api"
)

func TestNewChecksHost(t *testing.T) {
	cases := []struct {
		host, want string
	}{
		{"", "no hogplane host given"},
		{"127.0.0.1:8470", "is not a URL such as http://127.0.0.1:8470"},
		{"ftp://x", "is not a URL"},
		{"http://x?a=b", "must not have a query"},
	}
	for _, c := range cases {
		_, err := New(Options{Host: c.host})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q) = %v, want an error containing %q", c.host, err, c.want)
		}
	}
	c, err := New(Options{Host: "https://example.com/hog/"})
	if err != nil || c.Host() != "https://example.com/hog" {
		t.Errorf("New = %v, %v", c, err)
	}
}

// problem answers with problem details.
func problem(w http.ResponseWriter, status int, typ, title, detail string, hdr ...string) {
	for i := 0; i+1 < len(hdr); i += 2 {
		w.Header().Set(hdr[i], hdr[i+1])
	}
	w.Header().Set("X-Request-Id", "req_test")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":%q,"title":%q,"status":%d,"detail":%q,"request_id":"req_test","quota":{"max_boxes":3}}`,
		ProblemTypeBase+typ, title, status, detail)
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
		text    string
		kind    string
	}{
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			problem(w, 404, "not-found", "Not found", "box box-1 not found")
		}, IsNotFound, "Not found: box box-1 not found (request req_test)", "not-found"},
		{"busy is a conflict", func(w http.ResponseWriter, r *http.Request) {
			problem(w, 409, "busy", "Resource busy", "box box-1 is pausing")
		}, func(err error) bool { return IsBusy(err) && IsConflict(err) }, "Resource busy: box box-1 is pausing (request req_test)", "busy"},
		{"conflict is not busy", func(w http.ResponseWriter, r *http.Request) {
			problem(w, 409, "conflict", "Conflict", "name taken")
		}, func(err error) bool { return IsConflict(err) && !IsBusy(err) }, "Conflict: name taken (request req_test)", "conflict"},
		{"unauthenticated", func(w http.ResponseWriter, r *http.Request) {
			problem(w, 401, "unauthenticated", "Authentication required", "token not valid")
		}, IsUnauthenticated, "Authentication required: token not valid (request req_test)", "unauthenticated"},
		{"a proxy's HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>\n<body>upstream  gone</body></html>")
		}, func(err error) bool { return !IsNotFound(err) }, "Bad Gateway: <html> <body>upstream gone</body></html>", "bad-gateway"},
		{"permission", func(w http.ResponseWriter, r *http.Request) {
			problem(w, 403, "permission-denied", "Permission denied", "only an admin may do this")
		}, IsPermissionDenied, "Permission denied: only an admin may do this (request req_test)", "permission-denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, Options{MaxRetries: -1})
			_, err := c.Me(t.Context())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v, want *Error", err, err)
			}
			if !tc.check(err) {
				t.Errorf("predicate false for %v", err)
			}
			if err.Error() != tc.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.text)
			}
			if e.Kind() != tc.kind {
				t.Errorf("Kind() = %q, want %q", e.Kind(), tc.kind)
			}
			if e.Status != e.Problem.Status {
				t.Errorf("status %d, problem status %d", e.Status, e.Problem.Status)
			}
		})
	}
}

func TestErrorKeepsExtraMembers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem(w, 403, "permission-denied", "Permission denied", "over quota")
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	_, err := c.CreateBox(t.Context(), api.CreateBoxRequest{})
	var e *Error
	if !errors.As(err, &e) || e.RequestID != "req_test" || e.Problem.Extra["quota"] == nil {
		t.Fatalf("err = %#v", err)
	}
}

func TestRetries(t *testing.T) {
	type answer struct {
		status int
		hdr    []string
	}
	busy := answer{409, []string{"Retry-After", "2"}}
	cases := []struct {
		name      string
		answers   []answer // then 200
		call      func(ctx context.Context, c *Client) error
		opts      Options
		wantCalls int
		wantErr   bool
		// wantSleeps bounds each recorded wait.
		wantSleeps [][2]time.Duration
	}{
		{"503 then success", []answer{{503, nil}}, getBox, Options{}, 2, false,
			[][2]time.Duration{{baseBackoff / 2, baseBackoff}}},
		{"429 honours Retry-After", []answer{{429, []string{"Retry-After", "3"}}}, getBox, Options{}, 2, false,
			[][2]time.Duration{{3 * time.Second, 3*time.Second + 300*time.Millisecond}}},
		{"409 busy is retried", []answer{busy, busy}, getBox, Options{}, 3, false,
			[][2]time.Duration{{2 * time.Second, 2200 * time.Millisecond}, {2 * time.Second, 2200 * time.Millisecond}}},
		{"409 without Retry-After is not", []answer{{409, nil}}, getBox, Options{}, 1, true, nil},
		{"500 is not", []answer{{500, nil}}, getBox, Options{}, 1, true, nil},
		{"exec is never retried", []answer{busy}, func(ctx context.Context, c *Client) error {
			_, err := c.Exec(ctx, testBox, api.ExecRequest{Argv: []string{"true"}})
			return err
		}, Options{}, 1, true, nil},
		{"admin calls are never retried", []answer{{503, nil}}, func(ctx context.Context, c *Client) error {
			_, err := c.CreatePrincipal(ctx, api.CreatePrincipalRequest{Name: "x"})
			return err
		}, Options{}, 1, true, nil},
		{"create is retried", []answer{{503, nil}, {429, nil}}, func(ctx context.Context, c *Client) error {
			_, err := c.CreateBox(ctx, api.CreateBoxRequest{})
			return err
		}, Options{}, 3, false, nil},
		{"gives up after MaxRetries", []answer{{503, nil}, {503, nil}, {503, nil}}, getBox, Options{MaxRetries: 2}, 3, true, nil},
		{"negative MaxRetries turns retries off", []answer{{503, nil}}, getBox, Options{MaxRetries: -1}, 1, true, nil},
		{"a Retry-After too long is returned", []answer{{503, []string{"Retry-After", "3600"}}}, getBox, Options{}, 1, true, nil},
		{"a seekable file body is sent again", []answer{{503, nil}}, func(ctx context.Context, c *Client) error {
			_, err := c.WriteFile(ctx, testBox, "/f", strings.NewReader("hello"), WriteFileOptions{})
			return err
		}, Options{}, 2, false, nil},
		{"a one-shot file body is not", []answer{{503, nil}}, func(ctx context.Context, c *Client) error {
			_, err := c.WriteFile(ctx, testBox, "/f", io.MultiReader(strings.NewReader("hello")), WriteFileOptions{})
			return err
		}, Options{}, 1, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var keys, bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				n := len(keys)
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				bodies = append(bodies, string(b))
				mu.Unlock()
				if n < len(tc.answers) {
					a := tc.answers[n]
					problem(w, a.status, "x", http.StatusText(a.status), "try again", a.hdr...)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{}`)
			}))
			t.Cleanup(srv.Close)
			c, s := newRecordingClient(t, srv.URL, tc.opts)
			err := tc.call(t.Context(), c)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(keys) != tc.wantCalls {
				t.Fatalf("%d requests, want %d", len(keys), tc.wantCalls)
			}
			for i := range keys {
				if keys[i] != keys[0] || bodies[i] != bodies[0] {
					t.Errorf("attempt %d sent key %q body %q; the first sent %q %q", i, keys[i], bodies[i], keys[0], bodies[0])
				}
			}
			got := s.all()
			if tc.wantSleeps != nil {
				if len(got) != len(tc.wantSleeps) {
					t.Fatalf("waits %v, want %d", got, len(tc.wantSleeps))
				}
				for i, w := range tc.wantSleeps {
					if got[i] < w[0] || got[i] > w[1] {
						t.Errorf("wait %d = %v, want within %v", i, got[i], w)
					}
				}
			}
		})
	}
}

func getBox(ctx context.Context, c *Client) error {
	_, err := c.GetBox(ctx, testBox)
	return err
}

func TestCreateBoxSendsAKey(t *testing.T) {
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"box-0123456789ab","status":"running"}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	for _, opts := range [][]CallOption{nil, nil, {IdempotencyKey("mine")}} {
		b, err := c.CreateBox(t.Context(), api.CreateBoxRequest{Image: "busybox"}, opts...)
		if err != nil || b.ID != testBox {
			t.Fatalf("CreateBox = %+v, %v", b, err)
		}
	}
	if len(keys[0]) != 32 || keys[0] == keys[1] || keys[2] != "mine" {
		t.Errorf("keys %q: want two random ones, then mine", keys)
	}
}

// TestConnectionErrors drops the connection of the first request without
// an answer: a read is retried, an exec is not, and the error names the
// host.
func TestConnectionErrors(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		io.WriteString(w, `{"principal":{"id":"prn-1"},"auth_path":"api_token"}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	me, err := c.Me(t.Context())
	if err != nil || me.Principal.ID != "prn-1" || n.Load() != 2 {
		t.Fatalf("Me = %+v, %v after %d requests", me, err, n.Load())
	}
	_, err = c.Exec(t.Context(), testBox, api.ExecRequest{Argv: []string{"true"}})
	var ce *ConnError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot reach hogplane at "+srv.URL) {
		t.Fatalf("Exec err = %v, want a ConnError", err)
	}
	if n.Load() != 3 {
		t.Errorf("exec sent %d times", n.Load()-2)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem(w, 503, "unavailable", "Service unavailable", "later", "Retry-After", "1")
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	c.sleep = sleep // really wait, so the cancel lands in the wait
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Me(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestTokenAndUserAgent(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization")+" | "+r.Header.Get("User-Agent"))
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	n := 0
	c := newTestClient(t, srv.URL, Options{Token: "ignored", UserAgent: "hog/1.2", TokenFunc: func(context.Context) (string, error) {
		n++
		return fmt.Sprintf("tok_%d", n), nil
	}})
	for range 2 {
		if _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Bearer tok_1 | hog/1.2", "Bearer tok_2 | hog/1.2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	bad := newTestClient(t, srv.URL, Options{TokenFunc: func(context.Context) (string, error) {
		return "", errors.New("token file gone")
	}})
	if _, err := bad.Me(t.Context()); err == nil || !strings.Contains(err.Error(), "get token: token file gone") {
		t.Errorf("err = %v", err)
	}
}

func TestAllBoxesFollowsCursors(t *testing.T) {
	pages := map[string]string{
		"":   `{"items":[{"id":"box-000000000001"},{"id":"box-000000000002"}],"next_cursor":"c1"}`,
		"c1": `{"items":[{"id":"box-000000000003"}],"next_cursor":"c2"}`,
		"c2": `{"items":[]}`,
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		io.WriteString(w, pages[r.URL.Query().Get("cursor")])
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	var ids []string
	for b, err := range c.AllBoxes(t.Context(), ListBoxesOptions{Limit: 2, Status: []string{"running", "paused"}, Tags: []string{"a=b"}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	if fmt.Sprint(ids) != "[box-000000000001 box-000000000002 box-000000000003]" {
		t.Errorf("ids %v", ids)
	}
	want := []string{
		"limit=2&status=running&status=paused&tag=a%3Db",
		"cursor=c1&limit=2&status=running&status=paused&tag=a%3Db",
		"cursor=c2&limit=2&status=running&status=paused&tag=a%3Db",
	}
	if fmt.Sprint(queries) != fmt.Sprint(want) {
		t.Errorf("queries\n%q\nwant\n%q", queries, want)
	}
	// Breaking out early fetches no more pages.
	queries = nil
	for range c.AllBoxes(t.Context(), ListBoxesOptions{}) {
		break
	}
	if len(queries) != 1 {
		t.Errorf("%d pages fetched after a break", len(queries))
	}
}

func TestFiles(t *testing.T) {
	var gotQuery, gotBody, gotLen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "PUT":
			b, _ := io.ReadAll(r.Body)
			gotQuery, gotBody = r.URL.RawQuery, string(b)
			gotLen = fmt.Sprint(r.ContentLength)
			fmt.Fprintf(w, `{"path":%q,"size":%d,"mode":"0755"}`, r.URL.Query().Get("path"), len(b))
		case "GET":
			io.WriteString(w, "contents")
		}
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	fi, err := c.WriteFile(t.Context(), testBox, "/a b/c", strings.NewReader("hello"), WriteFileOptions{Mode: 0o755, Mkdir: true})
	if err != nil || fi.Size != 5 || fi.Path != "/a b/c" {
		t.Fatalf("WriteFile = %+v, %v", fi, err)
	}
	if gotQuery != "mkdir=true&mode=0755&path=%2Fa+b%2Fc" || gotBody != "hello" || gotLen != "5" {
		t.Errorf("query %q body %q length %s", gotQuery, gotBody, gotLen)
	}
	rc, err := c.ReadFile(t.Context(), testBox, "/a")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := iotest.TestReader(rc, []byte("contents")); err != nil {
		t.Error(err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	for attempt, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second} {
		for range 20 {
			if d := backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	if d := backoff(30); d > maxBackoff || d < maxBackoff/2 {
		t.Errorf("backoff(30) = %v", d)
	}
}
