package panion_test

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/PostHog/hogland/internal/errs"
)

// serveTCP runs handle for every connection to a new loopback listener
// and answers its port.
func serveTCP(t testing.TB, handle func(c *net.TCPConn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// echo copies until EOF, then half-closes.
func echo(c *net.TCPConn) {
	_, _ = io.Copy(c, c)
	_ = c.CloseWrite()
}

func closeWrite(t testing.TB, c net.Conn) {
	t.Helper()
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T cannot half-close", c)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

func TestRelayEchoWithHalfClose(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	port := serveTCP(t, echo)
	conn, err := a.c.Relay(ctxT(t), port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := strings.Repeat("hello relay ", 100000)
	go func() {
		_, _ = io.WriteString(conn, msg)
		closeWrite(t, conn)
	}()
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != msg {
		t.Fatalf("echo: %d bytes (err %v), want %d", len(got), err, len(msg))
	}
}

// An HTTP/1.0-style server answers after the request and ends the body
// by closing.
func TestRelayEOFDelimitedServer(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	port := serveTCP(t, func(c *net.TCPConn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_, _ = io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\nbody until close")
	})
	conn, err := a.c.Relay(ctxT(t), port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil || !strings.HasSuffix(string(got), "\r\n\r\nbody until close") {
		t.Fatalf("got %q (err %v)", got, err)
	}
}

// A server that speaks first: its banner may arrive with the 101 answer
// and must not be lost.
func TestRelayServerSpeaksFirst(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	port := serveTCP(t, func(c *net.TCPConn) { _, _ = io.WriteString(c, "220 banner\r\n") })
	for range 20 {
		conn, err := a.c.Relay(ctxT(t), port)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || string(got) != "220 banner\r\n" {
			t.Fatalf("got %q (err %v)", got, err)
		}
	}
}

// Bytes sent right behind the upgrade request reach the box's server.
func TestRelayBytesBehindTheRequest(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	port := serveTCP(t, echo)
	conn, err := net.Dial("unix", a.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /v1/relay?port=" + strconv.Itoa(port) + " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly bytes"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	closeWrite(t, conn)
	got, err := io.ReadAll(conn)
	want := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly bytes"
	if err != nil || string(got) != want {
		t.Fatalf("got %q (err %v)", got, err)
	}
}

func TestRelayClosedPort(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = a.c.Relay(ctxT(t), port)
	wantKind(t, err, errs.BadGateway, "nothing is listening on port "+strconv.Itoa(port)+" in the box")
	_, err = a.c.Relay(ctxT(t), 0)
	wantKind(t, err, errs.Invalid, "port must be")
}
