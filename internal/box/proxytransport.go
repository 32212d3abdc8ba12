package box

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"
)

// proxyTransport carries proxied requests to the ports of one box.
//
// Requests without a body and without an upgrade (page loads, API GETs:
// most proxied traffic) go over kept-alive connections that it writes and
// reads in the caller's goroutine. http.Transport runs two goroutines per
// connection and hands every request, answer and end of body between them
// and the caller; for a small proxied GET that was a fifth of hogplane's
// CPU. Anything else (bodies, upgrades, CONNECT) goes through std, an
// http.Transport over the same dialer, which also handles 100-continue,
// a server answering before the body is sent, and the rest.
//
// The lean path keeps http.Transport's behaviour where the proxy relies on
// it: informational answers reach the request's httptrace (ReverseProxy
// forwards them), a body read to its end returns its connection to the
// pool and one closed early or cut off closes it, Connection: close and
// EOF-delimited answers are not reused, idle connections are checked
// before reuse and closed after leanIdleTimeout, and a replayable request
// that finds its kept-alive connection dead before any answer is sent
// once more on a new one.
type proxyTransport struct {
	std  *http.Transport
	dial func(ctx context.Context, addr string) (net.Conn, error)

	mu       sync.Mutex
	idle     map[string][]*leanConn // by host:port, most recently used last
	sweeping bool                   // a sweep of idle connections is due
	closed   bool
}

const (
	leanMaxIdlePerHost = 32
	leanIdleTimeout    = 90 * time.Second
)

// leanConn is a kept-alive connection of proxyTransport.
type leanConn struct {
	conn  net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	addr  string
	since time.Time // when it went idle
}

func newProxyTransport(dial func(ctx context.Context, addr string) (net.Conn, error)) *proxyTransport {
	return &proxyTransport{
		std: &http.Transport{
			DialContext:         func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) },
			MaxIdleConnsPerHost: leanMaxIdlePerHost,
			IdleConnTimeout:     leanIdleTimeout,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		dial: dial,
		idle: map[string][]*leanConn{},
	}
}

// shutdown closes the idle connections, and those of exchanges in flight
// when they end: the box is gone.
func (t *proxyTransport) shutdown() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*leanConn{}
	t.closed = true
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.conn.Close()
		}
	}
	t.std.CloseIdleConnections()
}

// lean reports whether req can take the lean path: no body, no upgrade,
// nothing that needs http.Transport's machinery.
func lean(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody || req.ContentLength != 0 || len(req.Trailer) > 0 {
		return false
	}
	if req.Method == http.MethodConnect || req.URL.Scheme != "http" || req.Close {
		return false
	}
	_, upgrade := req.Header["Upgrade"]
	return !upgrade
}

func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !lean(req) {
		return t.std.RoundTrip(req)
	}
	addr := req.URL.Host
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(req.Context(), addr)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(c, req)
		if err == nil {
			return resp, nil
		}
		c.conn.Close()
		// A kept-alive connection the server closed while it was idle
		// fails before any byte of an answer: send again, once, on a new
		// connection, as http.Transport does for requests it may replay.
		if !reused || attempt > 0 || !errors.Is(err, errNothingRead) || !replayable(req) || req.Context().Err() != nil {
			return nil, err
		}
	}
}

// replayable reports whether req may be sent again (as in http.Transport):
// a bodiless GET, HEAD, OPTIONS or TRACE, or one with an idempotency key.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
}

// errNothingRead marks an exchange that failed before any byte of the
// answer arrived.
var errNothingRead = errors.New("connection closed before the answer")

// exchange writes req on c and reads the answer. On error the caller
// closes c.
func (t *proxyTransport) exchange(c *leanConn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("%w: %w", errNothingRead, err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("%w: %w", errNothingRead, err))
	}
	for {
		if _, err := c.br.Peek(1); err != nil {
			return fail(fmt.Errorf("%w: %w", errNothingRead, err))
		}
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			resp.Body.Close()
			return fail(errors.New("101 Switching Protocols to a request that asked for no upgrade"))
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			// Informational (103 Early Hints...): pass on, read on.
			if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil {
				if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
					return fail(err)
				}
			}
			continue
		}
		b := &leanBody{t: t, c: c, rc: resp.Body, stop: stop, keep: !resp.Close}
		if resp.Body == http.NoBody {
			b.done(true)
			return resp, nil
		}
		resp.Body = b
		return resp, nil
	}
}

// leanBody is the body of an answer on a leanConn: when it has been read
// to its end the connection goes back to the pool; closed early, the
// connection is closed.
type leanBody struct {
	t    *proxyTransport
	c    *leanConn
	rc   io.ReadCloser
	stop func() bool
	keep bool
	mu   sync.Mutex
	fin  bool
}

func (b *leanBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.done(true)
	} else if err != nil {
		b.done(false)
	}
	return n, err
}

func (b *leanBody) Close() error {
	b.done(false)
	return nil
}

// done ends the exchange once: the connection goes back to the pool when
// the body was read to its end and the server keeps it alive.
func (b *leanBody) done(atEOF bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fin {
		return
	}
	b.fin = true
	stopped := b.stop()
	if atEOF && b.keep && stopped && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	b.c.conn.Close()
}

// get answers an idle connection to addr, or a new one.
func (t *proxyTransport) get(ctx context.Context, addr string) (c *leanConn, reused bool, err error) {
	now := time.Now()
	for {
		t.mu.Lock()
		cs := t.idle[addr]
		if len(cs) == 0 {
			t.mu.Unlock()
			break
		}
		c = cs[len(cs)-1]
		t.idle[addr] = cs[:len(cs)-1]
		t.mu.Unlock()
		if now.Sub(c.since) < leanIdleTimeout && usable(c.conn) {
			return c, true, nil
		}
		c.conn.Close()
	}
	conn, err := t.dial(ctx, addr)
	if err != nil {
		return nil, false, err
	}
	return &leanConn{conn: conn, br: bufio.NewReaderSize(conn, 4096), bw: bufio.NewWriterSize(conn, 4096), addr: addr}, false, nil
}

// put keeps c for the next request to its address.
func (t *proxyTransport) put(c *leanConn) {
	c.since = time.Now()
	t.mu.Lock()
	if !t.closed && len(t.idle[c.addr]) < leanMaxIdlePerHost {
		t.idle[c.addr] = append(t.idle[c.addr], c)
		if !t.sweeping {
			t.sweeping = true
			time.AfterFunc(leanIdleTimeout/2, t.sweep)
		}
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.conn.Close()
}

// sweep closes the connections idle for leanIdleTimeout, and comes back
// while any stay idle.
func (t *proxyTransport) sweep() {
	now := time.Now()
	var stale []*leanConn
	t.mu.Lock()
	for addr, cs := range t.idle {
		kept := cs[:0]
		for _, c := range cs {
			if now.Sub(c.since) >= leanIdleTimeout {
				stale = append(stale, c)
			} else {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			delete(t.idle, addr)
		} else {
			t.idle[addr] = kept
		}
	}
	t.sweeping = len(t.idle) > 0
	if t.sweeping {
		time.AfterFunc(leanIdleTimeout/2, t.sweep)
	}
	t.mu.Unlock()
	for _, c := range stale {
		c.conn.Close()
	}
}

// usable reports whether an idle connection is still open with nothing
// unread: a server that closed it, or sent bytes nobody asked for, has
// made it unusable.
func usable(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var b [1]byte
	if err := raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true
	}); err != nil {
		return false
	}
	return ok
}
