package box

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an HTTP server on loopback that counts the
// connections it accepted.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newCountingServer(t *testing.T, h http.Handler) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func tcpDial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func newTestTransport(t *testing.T) *proxyTransport {
	pt := newProxyTransport(tcpDial)
	t.Cleanup(pt.shutdown)
	return pt
}

// do sends a request through rt and answers the status and the body.
func do(t *testing.T, rt http.RoundTripper, method, url string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

func TestProxyTransportKeepsConnectionsAlive(t *testing.T) {
	s := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			for i := range 3 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
		}
	}))
	pt := newTestTransport(t)
	for i := range 20 {
		path := fmt.Sprintf("/n/%d?q=%d", i, i)
		if code, body := do(t, pt, "GET", s.URL+path, nil); code != 200 || body != "GET "+path {
			t.Fatalf("GET %s: %d %q", path, code, body)
		}
	}
	if code, body := do(t, pt, "GET", s.URL+"/chunked", nil); code != 200 || body != "part 0;part 1;part 2;" {
		t.Fatalf("chunked: %d %q", code, body)
	}
	if code, body := do(t, pt, "HEAD", s.URL+"/x", nil); code != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", code, body)
	}
	if code, _ := do(t, pt, "GET", s.URL+"/empty", nil); code != http.StatusNoContent {
		t.Fatalf("204: %d", code)
	}
	if code, body := do(t, pt, "DELETE", s.URL+"/x", nil); code != 200 || body != "DELETE /x" {
		t.Fatalf("DELETE: %d %q", code, body)
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d connections for requests one after another, want 1", n)
	}
	// A request with a body goes through http.Transport.
	if code, body := do(t, pt, "PUT", s.URL+"/put", strings.NewReader("data")); code != 200 || body != "PUT /put" {
		t.Fatalf("PUT: %d %q", code, body)
	}
}

// A connection the server closed while it was idle is not used again.
func TestProxyTransportServerClosedIdle(t *testing.T) {
	s := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Method)
	}))
	pt := newTestTransport(t)
	do(t, pt, "GET", s.URL, nil)
	s.CloseClientConnections()
	time.Sleep(50 * time.Millisecond) // let the FIN arrive
	// POST without a body takes the lean path but may not be replayed:
	// the closed connection must be noticed before it is used.
	if code, body := do(t, pt, "POST", s.URL, nil); code != 200 || body != "POST" {
		t.Fatalf("POST after the server closed the idle connection: %d %q", code, body)
	}
	if n := s.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// A kept-alive connection that dies right as a request goes out: a GET
// is sent again on a new connection.
func TestProxyTransportRetriesReplayable(t *testing.T) {
	url, accepted := rawServer(t, func(n int64, c net.Conn) {
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if n == 1 && i == 1 {
				return // read the second request, then hang up without a word
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
		}
	})
	pt := newTestTransport(t)
	if code, body := do(t, pt, "GET", url+"/a", nil); code != 200 || body != "/a" {
		t.Fatalf("%d %q", code, body)
	}
	if code, body := do(t, pt, "GET", url+"/b", nil); code != 200 || body != "/b" {
		t.Fatalf("%d %q", code, body)
	}
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// A body ended by the server's close, a Connection: close answer and a
// body closed early all leave the connection out of the pool.
func TestProxyTransportDoesNotReuse(t *testing.T) {
	url, accepted := rawServer(t, func(_ int64, c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		switch req.URL.Path {
		case "/eof":
			io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\nbody until close")
			return
		case "/close":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
		case "/big":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
			io.Copy(c, io.LimitReader(zeros{}, 10000000))
		}
		// Hold the connection open: only the client's close ends it.
		io.Copy(io.Discard, c)
	})
	pt := newTestTransport(t)
	if code, body := do(t, pt, "GET", url+"/eof", nil); code != 200 || body != "body until close" {
		t.Fatalf("EOF-delimited: %d %q", code, body)
	}
	if code, body := do(t, pt, "GET", url+"/close", nil); code != 200 || body != "ok" {
		t.Fatalf("Connection: close: %d %q", code, body)
	}
	req, _ := http.NewRequest("GET", url+"/big", nil)
	resp, err := pt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pt.mu.Lock()
	idle := 0
	for _, cs := range pt.idle {
		idle += len(cs)
	}
	pt.mu.Unlock()
	if idle != 0 {
		t.Fatalf("%d idle connections, want none", idle)
	}
	if n := accepted.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Informational answers (103 Early Hints) reach the trace, as with
// http.Transport (httputil.ReverseProxy passes them on that way).
func TestProxyTransportInformational(t *testing.T) {
	s := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "done")
	}))
	pt := newTestTransport(t)
	var got []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if h.Get("Link") == "" {
			t.Errorf("1xx without its Link header")
		}
		got = append(got, code)
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", s.URL, nil)
	resp, err := pt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "done" || len(got) != 1 || got[0] != http.StatusEarlyHints {
		t.Fatalf("%d %q, 1xx %v", resp.StatusCode, b, got)
	}
}

// Cancelling the request unblocks a wait for the answer.
func TestProxyTransportCancel(t *testing.T) {
	release := make(chan struct{})
	s := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer close(release)
	pt := newTestTransport(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	start := time.Now()
	_, err := pt.RoundTrip(req)
	if err == nil || ctx.Err() == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("RoundTrip = %v after %s, want the context's error", err, time.Since(start))
	}
}

// rawServer serves each connection on a loopback listener with serve
// (given the connection's number, from 1, and closing it after), for
// tests that need answers net/http would not write. It returns the
// server's URL and the count of accepted connections.
func rawServer(t *testing.T, serve func(n int64, c net.Conn)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := accepted.Add(1)
			go func() {
				defer c.Close()
				serve(n, c)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), accepted
}
