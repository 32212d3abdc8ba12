// Package s3test runs a real S3-compatible server on loopback for tests:
// moto's server (PyPI package moto[server], installed by scripts/deps.sh).
// Tests that need it skip, with the reason, where it is not installed.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials the server accepts (moto accepts any).
const (
	AccessKey = "hogland-test"
	SecretKey = "hogland-test-secret"
	Region    = "us-east-1"
)

// Server is a running S3-compatible server.
type Server struct {
	// Endpoint is host:port (plain HTTP).
	Endpoint string
}

var (
	mu      sync.Mutex
	counter int
)

// Start starts a server for the test, stopped at its cleanup, or skips
// the test if no server program is installed.
func Start(t testing.TB) *Server {
	t.Helper()
	prog, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server (pip install 'moto[server]', see scripts/deps.sh) is not installed: no S3-compatible server to test against")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(prog, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(t.TempDir(), "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	s := &Server{Endpoint: fmt.Sprintf("127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Endpoint, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("moto_server exited at start:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("moto_server did not start listening in 30 s")
		}
	}
}

// Bucket makes a new, empty bucket and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	mu.Lock()
	counter++
	name := fmt.Sprintf("hogland-test-%d-%d", os.Getpid(), counter)
	mu.Unlock()
	cl, err := minio.New(s.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	return name
}
