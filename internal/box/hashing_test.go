package box

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// smallReads reads r to its end in reads of random small sizes.
func smallReads(r io.Reader, rnd *rand.Rand) ([]byte, error) {
	var out []byte
	for {
		p := make([]byte, 1+rnd.IntN(70000))
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestHashingReader(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 4096, slotSize - 1, slotSize, slotSize + 1, hashSlots*slotSize + 12345} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		want := sha256.Sum256(data)
		// The source gives short reads, as a network body does.
		hr := newHashingReader(iotest.HalfReader(bytes.NewReader(data)))
		got, err := smallReads(hr, rnd)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		n, sum := hr.Sum()
		if !bytes.Equal(got, data) || n != int64(size) || sum != hex.EncodeToString(want[:]) {
			t.Errorf("size %d: read %d bytes (equal %v), Sum %d %s", size, len(got), bytes.Equal(got, data), n, sum)
		}
	}
}

func TestHashingReaderSourceError(t *testing.T) {
	boom := errors.New("boom")
	data := bytes.Repeat([]byte("x"), slotSize+100)
	hr := newHashingReader(io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)))
	got, err := io.ReadAll(hr)
	if !errors.Is(err, boom) || !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, err %v; want all %d bytes, then boom", len(got), err, len(data))
	}
	if _, err := hr.Read(make([]byte, 10)); !errors.Is(err, boom) {
		t.Errorf("read after the error: %v", err)
	}
	if n, _ := hr.Sum(); n != int64(len(data)) {
		t.Errorf("hashed %d bytes, want %d", n, len(data))
	}
}

// A call that fails early closes the reader while the transport may still
// be reading from it on another goroutine: neither side may hang or panic.
func TestHashingReaderCloseWhileReading(t *testing.T) {
	pr, pw := io.Pipe()
	hr := newHashingReader(pr)
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, hr)
		read <- err
	}()
	if _, err := pw.Write(make([]byte, 3*slotSize+7)); err != nil {
		t.Fatal(err)
	}
	hr.Close()
	go func() {
		_, _ = pw.Write(make([]byte, slotSize))
		pw.Close()
	}()
	if err := <-read; !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read after Close: %v, want io.ErrClosedPipe", err)
	}
	pr.Close() // ends the writer, whatever it has left
	if _, err := hr.Read(make([]byte, 1)); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read after Close: %v", err)
	}
	hr.Close() // twice is fine
}
