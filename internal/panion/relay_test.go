package panion_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/client"
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
	conn, _ := relayToEcho(t)
	echoRoundTrip(t, conn, strings.Repeat("hello relay ", 100000))
}

// relayToEcho starts an agent and an echo server and answers the agent's
// relay to the server's port, closed when the test ends.
func relayToEcho(t *testing.T) (net.Conn, int) {
	t.Helper()
	a := startAgent(t, nil)
	port := serveTCP(t, echo)
	conn, err := a.c.Relay(ctxT(t), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, port
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

// Over a Unix socket the agent hands the client its connection to the
// port (tcp-fd): the client talks to the server directly, with
// half-closes, and the agent copies nothing.
func TestRelayHandsOverTheConnection(t *testing.T) {
	t.Parallel()
	conn, port := relayToEcho(t)
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		t.Fatalf("Relay over a Unix socket answered a %T, want the *net.TCPConn the agent hands over", conn)
	}
	if got := tc.RemoteAddr().(*net.TCPAddr).Port; got != port {
		t.Fatalf("handed-over connection goes to port %d, want %d", got, port)
	}
	echoRoundTrip(t, conn, strings.Repeat("handed over ", 100000))
}

// unixOnly hides a *net.UnixConn behind another type, as a stream that
// cannot carry descriptors (vsock) would be: the client asks for a relay.
type unixOnly struct{ *net.UnixConn }

func TestRelayCopiesWhenNoHandOver(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	c := client.New(func(ctx context.Context) (net.Conn, error) {
		conn, err := unixDialer(a.sock)(ctx)
		if err != nil {
			return nil, err
		}
		return unixOnly{conn.(*net.UnixConn)}, nil
	})
	defer c.Close()
	port := serveTCP(t, echo)
	conn, err := c.Relay(ctxT(t), port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.(*net.TCPConn); ok {
		t.Fatal("Relay over a stream that cannot pass descriptors answered a *net.TCPConn")
	}
	echoRoundTrip(t, conn, strings.Repeat("relayed ", 100000))
}

// Bytes sent right behind a tcp-fd request reach the server before the
// connection is handed over, and the agent then closes its end.
func TestRelayHandOverBytesBehindTheRequest(t *testing.T) {
	t.Parallel()
	a := startAgent(t, nil)
	port := serveTCP(t, echo)
	c, err := net.Dial("unix", a.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uc := c.(*net.UnixConn)
	req := "GET /v1/relay?port=" + strconv.Itoa(port) + " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp-fd, tcp\r\n\r\nearly bytes"
	if _, err := io.WriteString(uc, req); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 4096), make([]byte, syscall.CmsgSpace(4))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if want := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp-fd\r\n\r\n"; string(buf[:n]) != want {
		t.Fatalf("answer %q, want %q", buf[:n], want)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v (err %v), want one", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("descriptors %v (err %v), want one", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "relay")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if rest, err := io.ReadAll(uc); err != nil || len(rest) != 0 {
		t.Fatalf("after the hand-over the agent sent %q (err %v), want EOF", rest, err)
	}
	closeWrite(t, nc)
	got, err := io.ReadAll(nc)
	if err != nil || string(got) != "early bytes" {
		t.Fatalf("got %q (err %v)", got, err)
	}
}

// echoRoundTrip writes msg to conn (relayed to an echo server), half-closes
// it, and checks the same bytes come back.
func echoRoundTrip(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	go func() {
		_, _ = io.WriteString(conn, msg)
		closeWrite(t, conn)
	}()
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != msg {
		t.Fatalf("echo: %d bytes (err %v), want %d", len(got), err, len(msg))
	}
}
