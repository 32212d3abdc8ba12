package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// hostForkExec times one os/exec run of /bin/true on the host.
func hostForkExec(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := exec.CommandContext(ctx, "/bin/true").Run()
	return time.Since(start), err
}

// hostEchoFirstByte times from starting `echo hi` on the host to the
// first byte of its stdout.
func hostEchoFirstByte(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, "/bin/echo", "hi")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var b [1]byte
	_, err = io.ReadFull(out, b[:])
	took := time.Since(start)
	_, _ = io.Copy(io.Discard, out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	return took, err
}

// hostWriteRead writes data to a new file in dir with write and fsync (the
// agent also fsyncs), then reads it back, and times both.
func hostWriteRead(dir string, data []byte) (write, read time.Duration, err error) {
	f, err := os.CreateTemp(dir, "hogbench-file-")
	if err != nil {
		return 0, 0, err
	}
	name := f.Name()
	defer os.Remove(name)
	start := time.Now()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	write = time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	start = time.Now()
	f, err = os.Open(name)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, f)
	f.Close()
	read = time.Since(start)
	if err == nil && n != int64(len(data)) {
		err = fmt.Errorf("read %d bytes back of %d", n, len(data))
	}
	return write, read, err
}

// HostServer is the test HTTP server (boxserver) run on the host, on a
// loopback port: the baseline of the proxy.
type HostServer struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartHostServer starts the boxserver binary on a free loopback port and
// waits until it answers.
func StartHostServer(ctx context.Context, bin string) (*HostServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &HostServer{URL: "http://" + addr, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "-addr", addr)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/echo/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("host boxserver exited at start (port %s taken?)", addr)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("host boxserver did not answer on %s", addr)
		}
	}
}

// Stop kills the server.
func (s *HostServer) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Forwarder is the reference forwarder (internal/bench/forwarder) joining
// a loopback port to a port in a box.
type Forwarder struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartForwarder starts bin in front of port of the box whose agent
// listens on agentSocket, and waits until it accepts.
func StartForwarder(ctx context.Context, bin, agentSocket string, port int) (*Forwarder, error) {
	f := &Forwarder{exited: make(chan struct{})}
	f.cmd = exec.Command(bin, "-agent-socket", agentSocket, "-port", strconv.Itoa(port))
	// The forwarder ends when its stdin closes: the pipe's write end is
	// held by cmd until it exits, so it goes with this process.
	if _, err := f.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	f.cmd.Stderr = &stderr
	if err := f.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		_ = f.cmd.Wait()
		close(f.exited)
	}()
	select {
	case a := <-addr:
		if a != "" {
			f.URL = "http://" + a
			return f, nil
		}
		f.Stop()
		return nil, fmt.Errorf("forwarder did not start: %s", stderr.String())
	case <-ctx.Done():
		f.Stop()
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		f.Stop()
		return nil, errors.New("forwarder did not start within 10 s")
	}
}

// Stop ends the forwarder.
func (f *Forwarder) Stop() {
	_ = f.cmd.Process.Kill()
	<-f.exited
}
