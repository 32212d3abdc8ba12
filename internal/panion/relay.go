package panion

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// relayDialTimeout bounds the dial to a port in the box.
const relayDialTimeout = 5 * time.Second

// relay serves GET /v1/relay?port=N with Upgrade: tcp. It dials the port
// first, so that a closed port is an ordinary 502 answer; then it answers
// 101 and splices bytes both ways, passing half-closes on.
func (s *Server) relay(w http.ResponseWriter, r *http.Request) {
	port, err := strconv.Atoi(r.URL.Query().Get("port"))
	if err != nil || port < 1 || port > 65535 {
		s.fail(w, r, errs.New(errs.Invalid, "port must be a number from 1 to 65535, not %q", r.URL.Query().Get("port")))
		return
	}
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "tcp") {
		s.fail(w, r, errs.New(errs.Invalid, "relay needs the headers Connection: Upgrade and Upgrade: tcp"))
		return
	}
	// Not r.Context(): a client that half-closes right behind its request
	// makes the server cancel that context, yet wants its relay.
	up, err := dialBox(context.WithoutCancel(r.Context()), port)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		s.fail(w, r, errs.Wrap(errs.Internal, err, "cannot take over the connection"))
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if uc, ok := conn.(*net.UnixConn); ok && headerHas(r.Header, "Upgrade", "tcp-fd") {
		if handOver(uc, brw.Reader, up) {
			conn.Close()
			up.Close()
			return
		}
		// Not sent (the socket cannot carry descriptors): relay instead.
	}
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	if err := brw.Flush(); err != nil {
		conn.Close()
		up.Close()
		return
	}
	// brw.Reader may hold bytes the client sent right after its request.
	splice(conn, brw.Reader, up)
}

// handOverAnswer is the 101 answer that carries the connection.
const handOverAnswer = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp-fd\r\n\r\n"

// handOver answers a client that offered tcp-fd with the connection up
// itself: its descriptor goes with the 101 answer (SCM_RIGHTS), so that
// the client reaches the port directly and no byte is copied here. Bytes
// the client sent right behind its request (in br) go to up first. done
// is true when this process is finished with both connections: the client
// has the connection, or they are broken. It is false when nothing was
// sent (a socket that cannot pass descriptors, as under gVisor): relay
// instead.
func handOver(c *net.UnixConn, br *bufio.Reader, up net.Conn) (done bool) {
	tc, ok := up.(*net.TCPConn)
	if !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		if _, err := up.Write(b); err != nil {
			return true
		}
		_, _ = br.Discard(n)
	}
	var n int
	if err := raw.Control(func(fd uintptr) {
		n, _, _ = c.WriteMsgUnix([]byte(handOverAnswer), syscall.UnixRights(int(fd)), nil)
	}); err != nil {
		return false
	}
	return n > 0 // sent whole, or the stream is broken partway
}

// dialBox connects to port on the box's loopback: 127.0.0.1, then ::1
// (servers that listen on "localhost" may take only the IPv6 one).
func dialBox(ctx context.Context, port int) (net.Conn, error) {
	d := net.Dialer{Timeout: relayDialTimeout}
	p := strconv.Itoa(port)
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", p))
	if errors.Is(err, syscall.ECONNREFUSED) {
		if c6, err6 := d.DialContext(ctx, "tcp", net.JoinHostPort("::1", p)); err6 == nil {
			return c6, nil
		}
	}
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, errs.Wrap(errs.BadGateway, err, "nothing is listening on port %d in the box", port)
	}
	return nil, errs.Wrap(errs.BadGateway, err, "cannot connect to port %d in the box: %v", port, err)
}

// splice copies client→up (reading through cr, which wraps client) and
// up→client until both directions end. When one direction reaches EOF it
// half-closes the other side, so EOF-delimited protocols work; when one
// fails, both connections are closed, which ends the other direction too.
func splice(client net.Conn, cr io.Reader, up net.Conn) {
	abort := func() {
		client.Close()
		up.Close()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := io.Copy(up, cr); err != nil {
			abort()
			return
		}
		closeWrite(up)
	})
	wg.Go(func() {
		if _, err := io.Copy(client, up); err != nil {
			abort()
			return
		}
		closeWrite(client)
	})
	wg.Wait()
	abort()
}

// closeWrite half-closes c when it can; otherwise it leaves c open for
// the other direction.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// headerHas reports whether the comma-separated header name contains
// token, ignoring case.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
