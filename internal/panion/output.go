package panion

import (
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// gate passes writes to w until it is shut; after shut every write is
// discarded. It lets a pipe keep draining after its output no longer
// matters, and shut guarantees that no write reaches w once it returns.
type gate struct {
	mu   sync.Mutex
	w    io.Writer
	shut bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.shut {
		_, _ = g.w.Write(p)
	}
	return len(p), nil
}

// close stops passing writes on; it waits for a write in progress.
func (g *gate) close() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
}

// cappedBuffer keeps the first limit bytes written to it and notes whether
// more came. It never fails a write, so the writer keeps draining.
// It is not safe for concurrent use; a gate serialises its writers.
type cappedBuffer struct {
	buf       bytes.Buffer
	limit     int64
	truncated bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.limit - int64(c.buf.Len())
	switch {
	case room <= 0:
		c.truncated = c.truncated || len(p) > 0
	case int64(len(p)) > room:
		c.buf.Write(p[:room])
		c.truncated = true
	default:
		c.buf.Write(p)
	}
	return len(p), nil
}

// String is the kept bytes; when truncated, a UTF-8 sequence cut in half
// by the cap is dropped rather than shown as garbage.
func (c *cappedBuffer) String() string {
	b := c.buf.Bytes()
	if c.truncated {
		b = b[:completeUTF8(b)]
	}
	return string(b)
}

// completeUTF8 is the length of b without a trailing UTF-8 sequence that is
// valid so far but incomplete. Invalid bytes are not held back.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}
