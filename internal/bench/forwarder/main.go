// Command forwarder is the bench's reference for the proxy figures: the
// least any proxy in a process of its own can do. It accepts TCP
// connections on a loopback port and joins each, byte for byte, to a
// connection to a port inside a box, opened through the box's agent as
// hogplane's proxy opens it (the agent hands over its socket). It parses
// no HTTP, checks no credential, and logs nothing, so what it costs over a
// direct request is the extra process and the extra hop alone.
//
//	forwarder -agent-socket RUN-DIR/boxes/ID/agent.sock -port 8080
//
// It prints "listening on HOST:PORT" once it accepts, and runs until
// killed or until its stdin closes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	agentclient "github.com/PostHog/hogland/internal/panion/client"
)

func main() {
	sock := flag.String("agent-socket", "", "the box agent's Unix socket")
	port := flag.Int("port", 8080, "port inside the box")
	listen := flag.String("listen", "127.0.0.1:0", "address to accept on")
	flag.Parse()
	if *sock == "" {
		log.Fatal("forwarder: -agent-socket is required")
	}
	agent := agentclient.New(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", *sock)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() { // the bench holds our stdin; when it goes, so do we
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go forward(agent, c, *port)
	}
}

// forward joins c to a new connection to port in the box until either
// side closes.
func forward(agent *agentclient.Client, c net.Conn, port int) {
	defer c.Close()
	b, err := agent.Relay(context.Background(), port)
	if err != nil {
		log.Printf("forwarder: relay to port %d: %v", port, err)
		return
	}
	defer b.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(b, c)
		if tc, ok := b.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(c, b)
	_ = c.Close() // unblocks the other copy
	<-done
}
