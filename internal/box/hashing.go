package box

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// A file write's bytes pass through the hashing reader in slots of
// slotSize; at most hashSlots of them are in use at once, so memory per
// write is bounded and the forwarding runs at most that far ahead of the
// hash, which is enough for the agent's fsync to overlap the hash's tail.
// The first slot is filled to firstFill bytes only, and each next one to
// twice as many, up to slotSize: the hash and the forwarding of a small
// file start as soon as its first bytes are in, not once it all is.
const (
	slotSize  = 1 << 20
	hashSlots = 4
	firstFill = 64 << 10
)

// slot is a buffer that the reader and the hasher share: whichever of
// them is done with it last makes it free again.
type slot struct {
	b    []byte
	refs atomic.Int32
}

// slotPool recycles slots across writes.
var slotPool = sync.Pool{New: func() any { return &slot{b: make([]byte, slotSize)} }}

// hashingReader hashes (SHA-256) what is read through it on a goroutine of
// its own, so the hash overlaps the transfer instead of slowing it, and is
// computed outside the box's CPU limit. It reads its source a slot at a
// time and the hasher hashes that same slot (no copy), so the two
// goroutines hand over work once per MiB, not once per small read, and
// seldom have to wake each other: the hash runs flat out on one core while
// the transfer uses the other.
//
// Read is for one goroutine; Close and Sum may be called from another,
// even while a Read is in progress. Close must be called once reading is
// over; Sum is valid after it.
type hashingReader struct {
	r    io.Reader
	free chan *slot // slots nobody uses
	full chan *slot // filled slots for the hasher, in order
	done chan struct{}
	h    hash.Hash
	n    int64 // bytes hashed; the hasher's until done is closed

	// Read's own state.
	cur   *slot  // the slot being read out, or nil
	data  []byte // its unread part
	err   error  // the source's error, returned once data is read out
	slots int    // slots taken from slotPool
	fill1 int    // how far the next slot is filled

	mu     sync.Mutex // orders sends on full with its close
	closed bool
	once   sync.Once
}

func newHashingReader(r io.Reader) *hashingReader {
	hr := &hashingReader{r: r, free: make(chan *slot, hashSlots), full: make(chan *slot, hashSlots),
		done: make(chan struct{}), h: sha256.New(), fill1: firstFill}
	go hr.loop()
	return hr
}

func (hr *hashingReader) loop() {
	defer close(hr.done)
	for s := range hr.full {
		hr.h.Write(s.b)
		hr.n += int64(len(s.b))
		hr.release(s)
	}
}

// release drops one user of s; the last one makes it free.
func (hr *hashingReader) release(s *slot) {
	if s.refs.Add(-1) == 0 {
		hr.free <- s // never blocks: free has room for every slot
	}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	if len(hr.data) == 0 && hr.err == nil {
		hr.fill()
	}
	if len(hr.data) == 0 {
		return 0, hr.err
	}
	n := copy(p, hr.data)
	hr.data = hr.data[n:]
	return n, nil
}

// fill reads the next slot from the source, until it holds hr.fill1 bytes
// or more or the source ends or fails, and hands it to the hasher.
func (hr *hashingReader) fill() {
	if hr.cur != nil {
		hr.release(hr.cur)
		hr.cur = nil
	}
	hr.mu.Lock()
	closed := hr.closed
	hr.mu.Unlock()
	if closed {
		hr.err = io.ErrClosedPipe
		return
	}
	var s *slot
	var first [1]byte
	n := 0
	select {
	case s = <-hr.free:
	default:
		if hr.slots < hashSlots {
			hr.slots++
			s = slotPool.Get().(*slot)
			break
		}
		// The hasher is behind: wait for it, but not to learn that the
		// source has ended (the final read of a body whose length is a
		// multiple of slotSize), which the caller may need at once.
		n, hr.err = hr.r.Read(first[:])
		if n == 0 && hr.err != nil {
			return
		}
		s = <-hr.free
	}
	b := s.b[:cap(s.b)]
	copy(b, first[:n])
	limit := min(hr.fill1, len(b))
	hr.fill1 = min(2*hr.fill1, slotSize)
	for n < limit && hr.err == nil {
		var m int
		m, hr.err = hr.r.Read(b[n:])
		n += m
	}
	s.b = b[:n]
	s.refs.Store(1)
	hr.mu.Lock()
	switch {
	case hr.closed:
		n, hr.err = 0, io.ErrClosedPipe
	case n > 0:
		s.refs.Add(1)
		hr.full <- s // never blocks: full has room for every slot
	}
	hr.mu.Unlock()
	hr.cur, hr.data = s, s.b[:n]
}

// Close stops the hashing goroutine once it has hashed everything read.
// Reads after it fail.
func (hr *hashingReader) Close() {
	hr.once.Do(func() {
		hr.mu.Lock()
		hr.closed = true
		close(hr.full)
		hr.mu.Unlock()
		<-hr.done
		// Slots that are free now are nobody's: recycle them. The one a
		// late Read may still hold is left to the garbage collector.
		for {
			select {
			case s := <-hr.free:
				slotPool.Put(s)
			default:
				return
			}
		}
	})
}

// Sum returns how many bytes were read and their SHA-256, in hex.
func (hr *hashingReader) Sum() (int64, string) {
	hr.Close()
	return hr.n, hex.EncodeToString(hr.h.Sum(nil))
}
