package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
	br, _, err := handshake(ctx, conn, conn, req, protocol)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, br, nil
}

// handshake sends req over conn, asking to switch to protocol (one token
// or a list the agent picks from), and reads the answer through rd (conn
// itself, or a reader of it). It answers the 101 response and the reader
// that may already hold bytes of the new protocol; any other answer is
// decoded into an error. Cancelling ctx unblocks it through a deadline.
// The caller closes conn on error.
func handshake(ctx context.Context, conn net.Conn, rd io.Reader, req *http.Request, protocol string) (*bufio.Reader, *http.Response, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	br, resp, err := exchange(conn, rd, req, protocol)
	if !stop() {
		return nil, nil, fmt.Errorf("hogpanion: %w", ctx.Err())
	}
	return br, resp, err
}

func exchange(conn net.Conn, rd io.Reader, req *http.Request, protocol string) (*bufio.Reader, *http.Response, error) {
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", protocol)
	if err := req.Write(conn); err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "the box agent did not answer")
	}
	br := bufio.NewReader(rd)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "the box agent did not answer")
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		return nil, nil, problemError(resp)
	}
	return br, resp, nil
}
