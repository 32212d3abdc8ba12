package client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	id    string
	event string
	data  []byte
}

// sseReader reads server-sent events (the text/event-stream format).
type sseReader struct {
	br *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// errPartialEvent is a stream that ended inside an event.
var errPartialEvent = errors.New("event stream ended inside an event")

// next returns the next event that has data. At the end of the stream it
// returns io.EOF, or errPartialEvent when the stream broke off mid-event
// (which is dropped: it is sent again on resume).
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var hasData, started bool
	for {
		line, err := s.br.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && (started || len(line) > 0) {
				return sseEvent{}, errPartialEvent
			}
			return sseEvent{}, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		if len(line) == 0 {
			if hasData {
				return ev, nil
			}
			ev, started = sseEvent{}, false
			continue
		}
		if line[0] == ':' {
			continue // a comment, such as a keep-alive
		}
		started = true
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "id":
			ev.id = string(value)
		case "event":
			ev.event = string(value)
		case "data":
			if hasData {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
			hasData = true
		}
	}
}
