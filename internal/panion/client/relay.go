package client

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// Relay opens a raw TCP stream to port on the box's loopback, over a new
// connection to the agent (HTTP Upgrade: tcp). ctx bounds only the
// handshake. The answer also has CloseWrite, which half-closes the
// stream when the underlying connection supports it. A port nobody
// listens on fails with errs.BadGateway.
func (c *Client) Relay(ctx context.Context, port int) (net.Conn, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	// Cancelling ctx during the handshake unblocks it through a deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	br, err := relayHandshake(conn, port)
	if !stop() {
		conn.Close()
		return nil, fmt.Errorf("hogpanion: %w", ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &relayConn{Conn: conn, r: br}, nil
}

// relayHandshake asks for the upgrade and reads the answer. The reader it
// answers may already hold the first bytes of the stream.
func relayHandshake(conn net.Conn, port int) (*bufio.Reader, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/relay?port=%d", baseURL, port), nil)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "bad relay request: %v", err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the box agent did not answer")
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the box agent did not answer")
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		return nil, problemError(resp)
	}
	return br, nil
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
