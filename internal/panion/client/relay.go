package client

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/PostHog/hogland/internal/errs"
)

// Relay opens a raw TCP stream to port on the box's loopback, over a new
// connection to the agent (HTTP Upgrade: tcp). ctx bounds only the
// handshake. The answer also has CloseWrite, which half-closes the
// stream when the underlying connection supports it. A port nobody
// listens on fails with errs.BadGateway.
func (c *Client) Relay(ctx context.Context, port int) (net.Conn, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/relay?port=%d", baseURL, port), nil)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "bad relay request: %v", err)
	}
	conn, br, err := c.upgrade(ctx, req, "tcp")
	if err != nil {
		return nil, err
	}
	return &relayConn{Conn: conn, r: br}, nil
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
