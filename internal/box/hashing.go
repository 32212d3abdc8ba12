package box

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"
)

// hashingReader hashes (SHA-256) what is read through it on a goroutine of
// its own, so the hash overlaps the transfer instead of slowing it, and is
// computed outside the box's CPU limit. Close must be called once reading
// is over; Sum is valid after it.
type hashingReader struct {
	r     io.Reader
	ch    chan []byte
	done  chan struct{}
	h     hash.Hash
	n     int64
	once  sync.Once
	pool  sync.Pool
	chunk int
}

func newHashingReader(r io.Reader) *hashingReader {
	const chunk = 64 << 10
	hr := &hashingReader{r: r, ch: make(chan []byte, 16), done: make(chan struct{}), h: sha256.New(), chunk: chunk}
	hr.pool.New = func() any { b := make([]byte, chunk); return &b }
	go hr.loop()
	return hr
}

func (hr *hashingReader) loop() {
	defer close(hr.done)
	for b := range hr.ch {
		hr.h.Write(b)
		if cap(b) == hr.chunk {
			b = b[:cap(b)]
			hr.pool.Put(&b)
		}
	}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	for off := 0; off < n; off += hr.chunk {
		end := min(off+hr.chunk, n)
		bp := hr.pool.Get().(*[]byte)
		b := (*bp)[:end-off]
		copy(b, p[off:end])
		hr.ch <- b
	}
	hr.n += int64(n)
	return n, err
}

// Close stops the hashing goroutine once it has hashed everything read.
func (hr *hashingReader) Close() {
	hr.once.Do(func() {
		close(hr.ch)
		<-hr.done
	})
}

// Sum returns how many bytes were read and their SHA-256, in hex.
func (hr *hashingReader) Sum() (int64, string) {
	hr.Close()
	return hr.n, hex.EncodeToString(hr.h.Sum(nil))
}
