package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
)

// Dial connects to box id's agent socket. The socket's directory is
// writable from inside the box, so the socket is opened with O_NOFOLLOW
// and must be a socket, and the connection goes through that descriptor:
// a box cannot point the host at another socket with a symlink. A socket
// not there yet or not accepted (agent starting, dead or the box stopped)
// is an errs.Unavailable.
func (d *Driver) Dial(ctx context.Context, id string) (net.Conn, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	conn, err := dialNoFollow(ctx, d.SocketPath(id))
	if err == nil {
		return conn, nil
	}
	if !exists(d.boxDir(id)) && !exists(d.containerDir(id)) {
		return nil, notFound(id)
	}
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) ||
		errors.Is(err, unix.ENOTSOCK) || errors.Is(err, unix.ELOOP) {
		return nil, errs.Wrap(errs.Unavailable, err, "box %s: agent is not listening", id)
	}
	return nil, fmt.Errorf("dial %s: %w", id, err)
}

// dialNoFollow connects to the Unix socket at path unless its last
// component is a symlink or not a socket.
func dialNoFollow(ctx context.Context, path string) (net.Conn, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, unix.ENOTSOCK
	}
	var dialer net.Dialer
	return dialer.DialContext(ctx, "unix", "/proc/self/fd/"+strconv.Itoa(fd))
}
