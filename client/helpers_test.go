package client

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// transports are those of every test client, whose idle connections are
// closed before looking for busy ones.
var (
	transportsMu sync.Mutex
	transports   []*http.Transport
)

// sleeps records the waits of a test client instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient makes a client of url whose waits are recorded, not slept,
// with its own transport; at cleanup it checks that no connection was left
// busy (a response body not closed).
func newTestClient(t testing.TB, url string, o Options) *Client {
	t.Helper()
	c, _ := newRecordingClient(t, url, o)
	return c
}

func newRecordingClient(t testing.TB, url string, o Options) (*Client, *sleeps) {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	transportsMu.Lock()
	transports = append(transports, tr)
	transportsMu.Unlock()
	o.Host = url
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Transport: tr}
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	c.sleep = s.sleep
	t.Cleanup(func() { checkNoBusyConns(t) })
	return c, s
}

// checkNoBusyConns fails t if client connections are still in use: a
// response body somebody forgot to close keeps its connection's
// goroutines alive after the idle ones were closed.
func checkNoBusyConns(t testing.TB) {
	t.Helper()
	transportsMu.Lock()
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	transportsMu.Unlock()
	deadline := time.Now().Add(3 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "net/http.(*persistConn).readLoop") {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("a client connection is still busy (response body not closed?):\n%s", stacks)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
