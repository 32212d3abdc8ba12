package client

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/PostHog/hogland/api"
)

func TestReadEvents(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"id: 1\nevent: stdout\ndata: {\"kind\":\"stdout\",\"seq\":1,\"data\":\"a\\nb\"}\n\n" +
		"id: 2\r\nevent: stderr\r\ndata: {\"data\":\r\ndata: \"x\"}\r\n\r\n" + // CRLF, split data, kind and seq from the frame
		"id: 3\nevent: exit\ndata: {\"kind\":\"exit\",\"seq\":3,\"exit_code\":0}\n\n" +
		"id: 4\nevent: stdout\ndata: {\"kind\":\"stdout\"" // cut off: dropped
	var got []api.ExecEvent
	err := ReadEvents(iotest.OneByteReader(strings.NewReader(stream)), func(ev api.ExecEvent) error {
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d events: %+v", len(got), got)
	}
	if got[0].Kind != "stdout" || got[0].Seq != 1 || got[0].Data != "a\nb" {
		t.Errorf("event 1: %+v", got[0])
	}
	if got[1].Kind != "stderr" || got[1].Seq != 2 || got[1].Data != "x" {
		t.Errorf("event 2: %+v", got[1])
	}
	if got[2].Kind != "exit" || got[2].ExitCode == nil || *got[2].ExitCode != 0 {
		t.Errorf("event 3: %+v", got[2])
	}
}

func TestReadEventsErrors(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadEvents(strings.NewReader("data: {}\n\ndata: {}\n\n"), func(api.ExecEvent) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn error: got %v after %d events", err, n)
	}
	if err := ReadEvents(strings.NewReader("data: {nope\n\n"), func(api.ExecEvent) error { return nil }); err == nil {
		t.Error("bad JSON accepted")
	}
	broken := iotest.TimeoutReader(strings.NewReader("data: {}\n\n"))
	if err := ReadEvents(broken, func(api.ExecEvent) error { return nil }); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("read error: got %v", err)
	}
}
