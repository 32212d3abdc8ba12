package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	for _, f := range []struct {
		typ     byte
		payload string
	}{{FrameData, "hello"}, {FrameResize, `{"cols":80,"rows":24}`}, {FrameData, ""}, {FrameExit, `{"exit_code":0}`}} {
		if err := WriteFrame(&buf, f.typ, []byte(f.payload)); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.Bytes()[:10]; !bytes.Equal(got, []byte{1, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}) {
		t.Fatalf("encoding %v", got)
	}
	var types []byte
	var payloads []string
	for {
		typ, p, err := ReadFrame(&buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types, payloads = append(types, typ), append(payloads, string(p))
	}
	if !bytes.Equal(types, []byte{1, 2, 1, 3}) || payloads[0] != "hello" || payloads[2] != "" {
		t.Errorf("decoded %v %q", types, payloads)
	}

	if err := WriteFrame(io.Discard, FrameData, make([]byte, MaxFramePayload+1)); err == nil {
		t.Error("oversized frame written")
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0xff, 0, 0, 0})); err == nil {
		t.Error("oversized frame read")
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0, 0, 0, 5, 'h'})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut payload: %v", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut header: %v", err)
	}
}
