package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

func sse(seq int, kind, data string) string {
	if kind == api.EventExit {
		return fmt.Sprintf("id: %d\nevent: exit\ndata: {\"kind\":\"exit\",\"seq\":%d,\"exit_code\":3}\n\n", seq, seq)
	}
	return fmt.Sprintf("id: %d\nevent: %s\ndata: {\"kind\":%q,\"seq\":%d,\"data\":%q}\n\n", seq, kind, kind, seq, data)
}

// execServer serves an exec whose events are all, cutting the connection
// at the byte offsets in cuts (one per connection, the last connection
// runs to the end); each resume starts after Last-Event-ID, but first
// repeats the event before it, as a careless server might.
type execServer struct {
	t    *testing.T
	all  []string
	cuts []int

	mu      sync.Mutex
	resumes []string // Last-Event-ID of each resume
}

func (s *execServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	conn := len(s.resumes)
	after := 0
	if r.Method == http.MethodGet {
		s.resumes = append(s.resumes, r.Header.Get("Last-Event-ID"))
		conn++
		after, _ = strconv.Atoi(r.Header.Get("Last-Event-ID"))
	}
	s.mu.Unlock()
	var b strings.Builder
	for i, e := range s.all {
		if i+1 >= after { // from the one already sent: a repeat
			b.WriteString(e)
		}
	}
	out := b.String()
	if conn < len(s.cuts) {
		out = out[:s.cuts[conn]]
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Exec-Id", "exe-1")
	w.WriteHeader(200)
	io.WriteString(w, ": keep-alive\n\n"+out)
	if conn < len(s.cuts) {
		// Break the connection rather than end the body cleanly.
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

func readAll(t *testing.T, s *ExecStream) ([]api.ExecEvent, error) {
	t.Helper()
	var evs []api.ExecEvent
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func TestExecStreamResumes(t *testing.T) {
	all := []string{sse(1, "stdout", "a\n"), sse(2, "stderr", "b\n"), sse(3, "stdout", "c\n"), sse(4, "exit", "")}
	cases := []struct {
		name        string
		cuts        []int
		wantResumes []string
	}{
		{"no drop", nil, nil},
		{"dropped between events", []int{len(all[0]) + len(all[1])}, []string{"2"}},
		{"dropped inside an event", []int{len(all[0]) + 10}, []string{"1"}},
		{"dropped before any event", []int{0}, []string{""}},
		{"dropped twice", []int{len(all[0]), len(all[0]) + len(all[1]) + 5}, []string{"1", "2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := &execServer{t: t, all: all, cuts: tc.cuts}
			srv := httptest.NewServer(es)
			t.Cleanup(srv.Close)
			c, sl := newRecordingClient(t, srv.URL, Options{})
			s, err := c.ExecStream(t.Context(), testBox, api.ExecRequest{Argv: []string{"x"}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			evs, err := readAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, fmt.Sprintf("%d:%s:%q", e.Seq, e.Kind, e.Data))
			}
			want := `[1:stdout:"a\n" 2:stderr:"b\n" 3:stdout:"c\n" 4:exit:""]`
			if fmt.Sprint(got) != want {
				t.Errorf("events %s, want %s", got, want)
			}
			if last := evs[len(evs)-1]; last.ExitCode == nil || *last.ExitCode != 3 {
				t.Errorf("exit event %+v", last)
			}
			es.mu.Lock()
			defer es.mu.Unlock()
			if fmt.Sprint(es.resumes) != fmt.Sprint(tc.wantResumes) {
				t.Errorf("resumed with Last-Event-ID %q, want %q", es.resumes, tc.wantResumes)
			}
			if s.ID() != "exe-1" || s.LastSeq() != 4 {
				t.Errorf("ID %q LastSeq %d", s.ID(), s.LastSeq())
			}
			if _, err := s.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("Next after exit = %v, want EOF", err)
			}
			if n := len(sl.all()); n > len(tc.cuts) {
				t.Errorf("%d waits for %d drops", n, len(tc.cuts))
			}
		})
	}
}

func TestExecStreamGivesUp(t *testing.T) {
	all := []string{sse(1, "stdout", "a\n"), sse(2, "exit", "")}
	// Every connection breaks before any event.
	es := &execServer{t: t, all: all, cuts: []int{0, 0, 0, 0, 0, 0, 0, 0}}
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{MaxRetries: 2})
	s, err := c.ExecStream(t.Context(), testBox, api.ExecRequest{Argv: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = readAll(t, s)
	if err == nil || !strings.Contains(err.Error(), "exec exe-1: stream lost 3 times in a row") {
		t.Fatalf("err = %v", err)
	}
	if _, again := s.Next(); again == nil || again.Error() != err.Error() {
		t.Errorf("second Next = %v, want the same error", again)
	}
}

func TestExecStreamCloseUnblocksNext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Exec-Id", "exe-1")
		w.WriteHeader(200)
		io.WriteString(w, sse(1, "stdout", "a\n"))
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newTestClient(t, srv.URL, Options{})
	s, err := c.ExecStream(t.Context(), testBox, api.ExecRequest{Argv: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Next(); err != nil || ev.Data != "a\n" {
		t.Fatalf("Next = %+v, %v", ev, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Next()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, errStreamClosed) {
			t.Errorf("Next after Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestExecEventsResumesAnExec(t *testing.T) {
	all := []string{sse(1, "stdout", "a\n"), sse(2, "stdout", "b\n"), sse(3, "exit", "")}
	es := &execServer{t: t, all: all}
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	s, err := c.ExecEvents(t.Context(), testBox, "exe-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := readAll(t, s)
	if err != nil || len(evs) != 2 || evs[0].Seq != 2 {
		t.Fatalf("events %+v, %v", evs, err)
	}
}

func TestSSEReader(t *testing.T) {
	in := ": hello\r\n\r\nid: 7\r\nevent: stdout\r\ndata: {\"a\":\r\ndata:1}\r\nretry: 10\r\n\r\nevent: nodata\n\nid: 8\ndata: x\n\nid: 9\ndata: partial"
	r := newSSEReader(strings.NewReader(in))
	ev, err := r.next()
	if err != nil || ev.id != "7" || ev.event != "stdout" || string(ev.data) != "{\"a\":\n1}" {
		t.Fatalf("first = %+v %q, %v", ev, ev.data, err)
	}
	ev, err = r.next()
	if err != nil || ev.id != "8" || string(ev.data) != "x" {
		t.Fatalf("second = %+v, %v", ev, err)
	}
	if _, err = r.next(); !errors.Is(err, errPartialEvent) {
		t.Fatalf("third: %v, want errPartialEvent", err)
	}
	if _, err = newSSEReader(strings.NewReader("")).next(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty: %v", err)
	}
}
