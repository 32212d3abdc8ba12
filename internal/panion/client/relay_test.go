package client

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// fakeAgent answers one relay request on a Unix socket with answer and
// the descriptors fds, as a broken or hostile agent might; it records the
// Upgrade header asked for.
func fakeAgent(t *testing.T, answer string, fds []int) (*Client, chan string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	asked := make(chan string, 1)
	go func() {
		defer func() {
			for _, fd := range fds {
				syscall.Close(fd)
			}
		}()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		asked <- req.Header.Get("Upgrade")
		var oob []byte
		if len(fds) > 0 {
			oob = syscall.UnixRights(fds...)
		}
		_, _, _ = c.(*net.UnixConn).WriteMsgUnix([]byte(answer), oob, nil)
	}()
	c := New(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	})
	t.Cleanup(c.Close)
	return c, asked
}

// pipeFD is a descriptor that is not a socket.
func pipeFD(t *testing.T) int {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	fd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// tcpFD is a descriptor of a connected TCP socket.
func tcpFD(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

const (
	handOverAnswer = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp-fd\r\n\r\n"
	relayAnswer    = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)

// The client takes only one TCP connection, with a tcp-fd answer, and
// refuses anything else an agent may send.
func TestRelayRefusesBadHandOvers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		fds    func(t *testing.T) []int
		detail string
	}{
		{"no descriptor", handOverAnswer, func(*testing.T) []int { return nil }, "did not carry exactly one connection"},
		{"not a socket", handOverAnswer, func(t *testing.T) []int { return []int{pipeFD(t)} }, "not a connection"},
		{"two connections", handOverAnswer, func(t *testing.T) []int { return []int{tcpFD(t), tcpFD(t)} }, "did not carry exactly one connection"},
		{"descriptor with a relay answer", relayAnswer, func(t *testing.T) []int { return []int{tcpFD(t)} }, "sent a descriptor with a relay answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, asked := fakeAgent(t, tc.answer, tc.fds(t))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := c.Relay(ctx, 8080)
			if err == nil {
				conn.Close()
				t.Fatalf("Relay took a bad hand-over")
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Unavailable || !strings.Contains(e.Detail, tc.detail) {
				t.Fatalf("error %v, want Unavailable with %q", err, tc.detail)
			}
			if got := <-asked; got != "tcp-fd, tcp" {
				t.Fatalf("Upgrade asked for %q, want \"tcp-fd, tcp\"", got)
			}
		})
	}
}

func TestRelayTakesAHandOver(t *testing.T) {
	c, _ := fakeAgent(t, handOverAnswer, []int{tcpFD(t)})
	conn, err := c.Relay(context.Background(), 8080)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.(*net.TCPConn); !ok {
		t.Fatalf("Relay answered a %T, want *net.TCPConn", conn)
	}
}
