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

// upgrade sends req over a new connection to the agent, asking to switch
// to protocol, and answers the connection and a reader of it that may
// already hold the first bytes of the new protocol. ctx bounds only the
// handshake. An answer other than 101 is decoded into an error.
func (c *Client) upgrade(ctx context.Context, req *http.Request, protocol string) (net.Conn, *bufio.Reader, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, nil, transportError(ctx, err)
	}
	// Cancelling ctx during the handshake unblocks it through a deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	br, err := handshake(conn, req, protocol)
	if !stop() {
		conn.Close()
		return nil, nil, fmt.Errorf("hogpanion: %w", ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, br, nil
}

func handshake(conn net.Conn, req *http.Request, protocol string) (*bufio.Reader, error) {
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", protocol)
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
