package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/PostHog/hogland/api"
)

// ReadEvents parses a text/event-stream of exec events (the body from
// Events) and calls fn for each, in order. Comment lines are skipped, the
// SSE id and event name fill Seq and Kind when the data lacks them, and an
// event cut off by the end of the stream is dropped. It returns nil at the
// end of the stream, fn's first error, or the read error.
func ReadEvents(r io.Reader, fn func(api.ExecEvent) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var f sseFields
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if ferr := f.line(trimEOL(line), fn); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// sseFields gathers the fields of one event.
type sseFields struct {
	id, event string
	data      []byte
	hasData   bool
}

// line takes one line; a blank one dispatches the event gathered so far.
func (f *sseFields) line(line []byte, fn func(api.ExecEvent) error) error {
	if len(line) == 0 {
		return f.dispatch(fn)
	}
	if line[0] == ':' {
		return nil
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(name) {
	case "id":
		f.id = string(value)
	case "event":
		f.event = string(value)
	case "data":
		if f.hasData {
			f.data = append(f.data, '\n')
		}
		f.data, f.hasData = append(f.data, value...), true
	}
	return nil
}

func (f *sseFields) dispatch(fn func(api.ExecEvent) error) error {
	defer func() { *f = sseFields{data: f.data[:0]} }()
	if !f.hasData {
		return nil
	}
	var ev api.ExecEvent
	if err := json.Unmarshal(f.data, &ev); err != nil {
		return fmt.Errorf("bad exec event %q: %w", f.id, err)
	}
	if ev.Seq == 0 {
		ev.Seq, _ = strconv.ParseInt(f.id, 10, 64)
	}
	if ev.Kind == "" {
		ev.Kind = f.event
	}
	return fn(ev)
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
