package panion

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
)

// Errors of stdinPipe.write.
var (
	// errStdinClosed: stdin was closed by an earlier write, or the process ended.
	errStdinClosed = errors.New("stdin is closed")
	// errStdinBroken: nobody has stdin open for reading any more, or the
	// process ended.
	errStdinBroken = errors.New("stdin is not read any more")
)

// stdinPipe is the agent's end of a process's stdin. Writers take turns
// (the first is the request's own stdin); shut may be called at any time
// and makes a blocked write fail.
type stdinPipe struct {
	turn   chan struct{} // holds a token while a writer writes
	w      *os.File
	closed bool        // guarded by turn
	ended  atomic.Bool // shut: the process ended
}

func newStdinPipe(w *os.File) *stdinPipe {
	return &stdinPipe{turn: make(chan struct{}, 1), w: w}
}

// feed writes data in the background, and closes stdin after it when
// closeAfter. It takes the turn before returning, so later writes queue
// behind it.
func (s *stdinPipe) feed(data string, closeAfter bool) {
	s.turn <- struct{}{}
	go func() {
		defer func() { <-s.turn }()
		if data != "" {
			_, _ = io.Copy(s.w, strings.NewReader(data))
		}
		if closeAfter {
			s.closeLocked()
		}
	}()
}

// write copies r to stdin once it is its turn, then closes stdin when
// closeAfter. It answers how much was written. A write error is returned
// as errStdinBroken (nobody reads) or errStdinClosed; a read error of r is
// returned as is. fed is set once all of r is written and
// before stdin is closed: a process that ends after that may have ended
// because of it, and the write still counts as done.
func (s *stdinPipe) write(ctx context.Context, r io.Reader, closeAfter bool, fed *atomic.Bool) (int64, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.turn }()
	if s.closed {
		return 0, s.closedErr()
	}
	dst := &trackedWriter{w: s.w}
	n, err := io.Copy(dst, r)
	if dst.err != nil {
		s.closeLocked()
		if errors.Is(dst.err, syscall.EPIPE) {
			return n, errStdinBroken
		}
		return n, s.closedErr()
	}
	if err != nil {
		return n, err
	}
	fed.Store(true)
	if closeAfter {
		s.closeLocked()
	}
	return n, nil
}

func (s *stdinPipe) closeLocked() {
	s.closed = true
	s.w.Close()
}

func (s *stdinPipe) closedErr() error {
	if s.ended.Load() {
		return errStdinBroken
	}
	return errStdinClosed
}

// shut closes stdin when the process has ended, failing any write that
// is blocked on a pipe nobody reads.
func (s *stdinPipe) shut() {
	s.ended.Store(true)
	s.w.Close()
}

// trackedWriter remembers its writer's error, to tell it from a read error
// in io.Copy.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}
