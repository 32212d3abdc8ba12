package snapshot

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// asyncHash is a SHA-256 that hashes what is written to it on a goroutine
// of its own, so that hashing overlaps the writer's I/O: on CPUs without
// SHA extensions SHA-256 runs at about 200 MB/s, the slowest step of
// archiving or unpacking a layer. Call Sum (or Close) exactly once.
type asyncHash struct {
	ch   chan []byte
	done chan struct{}
	h    hash.Hash
	once sync.Once
	pool sync.Pool
}

func newAsyncHash() *asyncHash {
	a := &asyncHash{ch: make(chan []byte, 16), done: make(chan struct{}), h: sha256.New()}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			a.h.Write(b)
			a.pool.Put(&b)
		}
	}()
	return a
}

// Write queues a copy of p to be hashed. It never fails.
func (a *asyncHash) Write(p []byte) (int, error) {
	var b []byte
	if v, ok := a.pool.Get().(*[]byte); ok && cap(*v) >= len(p) {
		b = (*v)[:len(p)]
	} else {
		b = make([]byte, len(p), max(len(p), 64<<10))
	}
	copy(b, p)
	a.ch <- b
	return len(p), nil
}

// Sum waits for everything written to be hashed and returns the digest.
func (a *asyncHash) Sum() []byte {
	a.Close()
	return a.h.Sum(nil)
}

// Close stops the hashing goroutine (after what was written is hashed).
func (a *asyncHash) Close() {
	a.once.Do(func() { close(a.ch) })
	<-a.done
}
