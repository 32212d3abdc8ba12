package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/PostHog/hogland/internal/errs"
)

// Relay opens a raw TCP stream to port on the box's loopback, over a new
// connection to the agent (HTTP Upgrade). ctx bounds only the handshake.
// The answer also has CloseWrite, which half-closes the stream when the
// underlying connection supports it. A port nobody listens on fails with
// errs.BadGateway.
//
// Over a Unix socket the client offers the tcp-fd protocol as well: an
// agent that can answers with its connection to the port itself (the
// descriptor passed with SCM_RIGHTS), so that the bytes flow straight
// between this process and the box's server instead of through a copy
// loop in the agent; the answer is then a *net.TCPConn. Otherwise the
// agent relays (Upgrade: tcp) and the answer reads through the handshake's
// buffer.
func (c *Client) Relay(ctx context.Context, port int) (net.Conn, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/relay?port=%d", baseURL, port), nil)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "bad relay request: %v", err)
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	rd, proto := io.Reader(conn), "tcp"
	var rr *rightsReader
	if uc, ok := conn.(*net.UnixConn); ok {
		rr = &rightsReader{c: uc, fd: -1}
		rd, proto = rr, "tcp-fd, tcp"
	}
	br, resp, err := handshake(ctx, conn, rd, req, proto)
	fd := rr.take()
	if err != nil {
		closeFD(fd)
		conn.Close()
		return nil, err
	}
	handedOver := rr != nil && strings.EqualFold(strings.TrimSpace(resp.Header.Get("Upgrade")), "tcp-fd")
	if !handedOver {
		closeFD(fd)
		if fd >= 0 {
			conn.Close()
			return nil, errs.New(errs.Unavailable, "the box agent sent a descriptor with a relay answer")
		}
		return &relayConn{Conn: conn, r: br}, nil
	}
	conn.Close() // the agent is done with it
	switch {
	case fd < 0:
		return nil, errs.New(errs.Unavailable, "the box agent's tcp-fd answer did not carry exactly one connection")
	case br.Buffered() > 0:
		closeFD(fd)
		return nil, errs.New(errs.Unavailable, "the box agent sent bytes after its tcp-fd answer")
	}
	return tcpConnFromFD(fd)
}

// tcpConnFromFD makes a *net.TCPConn of a descriptor the agent passed,
// which must be a TCP socket (anything else is refused and closed).
func tcpConnFromFD(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "relay")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the box agent passed a descriptor that is not a connection: %v", err)
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, errs.New(errs.Unavailable, "the box agent passed a %T, not a TCP connection", nc)
	}
	return tc, nil
}

// rightsReader reads a Unix connection with recvmsg, keeping the one
// descriptor the agent may pass with its answer; take ends that, and later
// reads are plain reads (which make the kernel drop any descriptor sent
// with them, so an agent cannot fill this process's descriptor table).
type rightsReader struct {
	c     *net.UnixConn
	oob   [24]byte // room for one descriptor: syscall.CmsgSpace(4)
	fd    int      // the descriptor received, or -1
	extra bool     // more than one descriptor, or a truncated control message
	plain bool
}

func (r *rightsReader) Read(p []byte) (int, error) {
	if r.plain {
		return r.c.Read(p)
	}
	n, oobn, flags, _, err := r.c.ReadMsgUnix(p, r.oob[:])
	if flags&syscall.MSG_CTRUNC != 0 {
		r.extra = true
	}
	if oobn > 0 {
		msgs, perr := syscall.ParseSocketControlMessage(r.oob[:oobn])
		if perr != nil {
			r.extra = true
		}
		for i := range msgs {
			fds, perr := syscall.ParseUnixRights(&msgs[i])
			if perr != nil {
				continue
			}
			for _, fd := range fds {
				if r.fd >= 0 {
					r.extra = true
					closeFD(fd)
					continue
				}
				r.fd = fd
			}
		}
	}
	return n, err
}

// take switches to plain reads and answers the descriptor received, or -1
// when there is none, the agent sent more than one, or r is nil (a
// connection that cannot carry descriptors).
func (r *rightsReader) take() int {
	if r == nil {
		return -1
	}
	r.plain = true
	if r.extra {
		closeFD(r.fd)
		return -1
	}
	return r.fd
}

func closeFD(fd int) {
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}

// relayConn reads through the handshake's reader, so bytes it buffered
// are not lost.
type relayConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *relayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes the stream: the box's server reads EOF.
func (c *relayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("close write: %T cannot half-close", c.Conn)
}
