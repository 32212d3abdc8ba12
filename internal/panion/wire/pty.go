package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// PTYUpgrade is the Upgrade token of POST /v1/ptys.
const PTYUpgrade = "hogland-pty"

// PTYRequest is the body of POST /v1/ptys. Empty Argv runs the box's
// shell (/bin/bash when it exists, else /bin/sh); Env is laid over the
// agent's environment as for exec, with TERM=xterm-256color unless Env
// sets TERM; zero Cols or Rows mean 80 and 24.
type PTYRequest struct {
	Argv    []string          `json:"argv,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Workdir string            `json:"workdir,omitempty"`
	Cols    int               `json:"cols,omitempty"`
	Rows    int               `json:"rows,omitempty"`
}

// PTYSize is the payload of a FrameResize.
type PTYSize struct {
	Cols int `json:"cols"`
	Rows int `json:"rows"`
}

// PTYExit is the payload of a FrameExit: the process's exit status, or -1
// when a signal ended it.
type PTYExit struct {
	ExitCode int `json:"exit_code"`
}

// Frame types of the PTY stream. Each frame is one type byte, a 4-byte
// big-endian payload length, then the payload.
const (
	// FrameData carries terminal bytes: keystrokes to the agent, output
	// from it.
	FrameData byte = 1
	// FrameResize (host to agent) carries a JSON PTYSize.
	FrameResize byte = 2
	// FrameExit (agent to host) carries a JSON PTYExit; it is the last
	// frame, then the agent closes the connection.
	FrameExit byte = 3
)

// MaxFramePayload is the largest payload of a frame; a longer one is a
// protocol error.
const MaxFramePayload = 1 << 20

// frameHeader is the size of a frame's type and length.
const frameHeader = 5

// WriteFrame writes one frame to w in a single Write.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > MaxFramePayload {
		return fmt.Errorf("pty frame of %d bytes is over the limit of %d", len(payload), MaxFramePayload)
	}
	b := make([]byte, frameHeader+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:frameHeader], uint32(len(payload)))
	copy(b[frameHeader:], payload)
	_, err := w.Write(b)
	return err
}

// ReadFrameHeader reads the type and payload length of the next frame; the
// caller then reads exactly that many payload bytes. A clean end of the
// stream before a frame is io.EOF; one inside the header is
// io.ErrUnexpectedEOF.
func ReadFrameHeader(r io.Reader) (typ byte, n int, err error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, err
	}
	size := binary.BigEndian.Uint32(h[1:])
	if size > MaxFramePayload {
		return 0, 0, errors.New("pty frame over the size limit")
	}
	return h[0], int(size), nil
}

// ReadFrame reads one whole frame.
func ReadFrame(r io.Reader) (typ byte, payload []byte, err error) {
	typ, n, err := ReadFrameHeader(r)
	if err != nil {
		return 0, nil, err
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return typ, payload, nil
}
