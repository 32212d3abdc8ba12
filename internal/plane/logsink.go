package plane

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/PostHog/hogland/internal/server"
)

// accessLogFlushEvery bounds how long an access-log line waits in the
// buffer.
const accessLogFlushEvery = 100 * time.Millisecond

// logSink buffers what a slog handler writes. The server logs one
// "request" line per call; writing each with its own write(2), and waking
// whatever reads the log for each, was a tenth of hogplane's CPU for a
// small proxied request. Those lines wait in the buffer for at most
// accessLogFlushEvery (or until 32 KiB fill it); any other record (a box
// event, a warning, an error) goes out at once, with the lines before it.
type logSink struct {
	mu    sync.Mutex
	out   io.Writer
	w     *bufio.Writer
	timer *time.Timer // flushes what waits; armed by the first byte buffered
	armed bool
}

func newLogSink(out io.Writer) *logSink {
	s := &logSink{out: out, w: bufio.NewWriterSize(out, 32<<10)}
	s.timer = time.AfterFunc(time.Hour, func() {
		s.mu.Lock()
		s.armed = false
		s.flushLocked()
		s.mu.Unlock()
	})
	s.timer.Stop()
	return s
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(b)
	if err != nil {
		s.w.Reset(s.out) // a failed write must not silence every later line
	}
	if s.w.Buffered() > 0 && !s.armed {
		s.armed = true
		s.timer.Reset(accessLogFlushEvery)
	}
	return n, err
}

// Flush writes out what is buffered.
func (s *logSink) Flush() {
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

func (s *logSink) flushLocked() {
	if s.w.Buffered() == 0 {
		return
	}
	if err := s.w.Flush(); err != nil {
		s.w.Reset(s.out)
	}
}

// sinkHandler writes through a handler whose output is a logSink, and
// flushes the sink after every record but the access log's.
type sinkHandler struct {
	slog.Handler
	sink *logSink
}

func (h sinkHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level != slog.LevelInfo || r.Message != server.AccessLogMessage {
		h.sink.Flush()
	}
	return err
}

func (h sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return sinkHandler{Handler: h.Handler.WithAttrs(as), sink: h.sink}
}

func (h sinkHandler) WithGroup(name string) slog.Handler {
	return sinkHandler{Handler: h.Handler.WithGroup(name), sink: h.sink}
}
