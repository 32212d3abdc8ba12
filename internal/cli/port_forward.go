package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/client"
)

func (a *app) portForwardCommand() *cobra.Command {
	var address string
	cmd := &cobra.Command{
		Use:   "port-forward BOX [LOCAL:]REMOTE...",
		Short: "Forward local ports to ports inside a box until interrupted",
		Long: `Listen on local ports and forward each connection to a port inside the box
(127.0.0.1 there), through hogplane. LOCAL 0, or LOCAL left out with a
colon (:8080), picks a free port; a bare REMOTE uses the same number
locally. Stop with Ctrl-C.`,
		Example: `  hog port-forward box-0123456789ab 8080
  hog port-forward box-0123456789ab 15432:5432 :3000`,
		Args:              minArgs(2, "a BOX and one or more [LOCAL:]REMOTE ports"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs := make([]portSpec, 0, len(args)-1)
			for _, s := range args[1:] {
				p, err := parsePortSpec(s)
				if err != nil {
					return err
				}
				specs = append(specs, p)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var listeners []net.Listener
			defer func() {
				for _, l := range listeners {
					l.Close()
				}
			}()
			for _, p := range specs {
				l, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(p.local)))
				if err != nil {
					return fmt.Errorf("listen for port %d: %w", p.remote, err)
				}
				listeners = append(listeners, l)
				fmt.Fprintf(a.stdout, "Forwarding %s -> %s:%d\n", l.Addr(), args[0], p.remote)
			}
			var wg sync.WaitGroup
			for i, l := range listeners {
				wg.Go(func() { a.serveForward(ctx, c, l, args[0], specs[i].remote) })
			}
			<-ctx.Done()
			for _, l := range listeners {
				l.Close()
			}
			wg.Wait()
			return nil
		},
	}
	cmd.Flags().StringVar(&address, "address", "127.0.0.1", "local address to listen on")
	return cmd
}

type portSpec struct{ local, remote int }

func parsePortSpec(s string) (portSpec, error) {
	bad := usageError{fmt.Errorf("%q is not a port spec such as 8080, 15432:5432 or :3000", s)}
	localStr, remoteStr, hasColon := strings.Cut(s, ":")
	if !hasColon {
		remoteStr = localStr
	}
	remote, err := strconv.Atoi(remoteStr)
	if err != nil || remote < 1 || remote > 65535 {
		return portSpec{}, bad
	}
	local := remote
	if hasColon {
		local = 0
		if localStr != "" {
			if local, err = strconv.Atoi(localStr); err != nil || local < 0 || local > 65535 {
				return portSpec{}, bad
			}
		}
	}
	return portSpec{local: local, remote: remote}, nil
}

// serveForward accepts connections on l until it is closed, tunnelling
// each to port in the box.
func (a *app) serveForward(ctx context.Context, c *client.Client, l net.Listener, box string, port int) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return // closed at the end
		}
		wg.Go(func() {
			defer conn.Close()
			t, err := c.Tunnel(ctx, box, port)
			if err != nil {
				a.printError(fmt.Errorf("port %d: %w", port, err))
				return
			}
			defer t.Close()
			pipeBoth(conn, t)
		})
	}
}

// halfCloser is a stream whose writing side closes on its own: a TCP
// connection or a tunnel.
type halfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

var (
	_ halfCloser = (*net.TCPConn)(nil)
	_ halfCloser = (*client.TunnelConn)(nil)
)

// pipeBoth copies both ways until both directions ended, passing each
// end on as a half-close.
func pipeBoth(local net.Conn, remote halfCloser) {
	lc, ok := local.(halfCloser)
	if !ok {
		return // only TCP listeners are made here
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := io.Copy(remote, lc); err == nil {
			if err := remote.CloseWrite(); err != nil {
				lc.Close()
			}
			return
		}
		remote.Close()
	})
	_, err := io.Copy(lc, remote)
	if err == nil || errors.Is(err, io.EOF) {
		if err := lc.CloseWrite(); err != nil {
			remote.Close()
		}
	} else {
		lc.Close()
	}
	wg.Wait()
}
