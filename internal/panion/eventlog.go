package panion

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/PostHog/hogland/api"
)

// eventLog holds the newest events of one streaming exec as ready SSE
// frames, and wakes readers when it grows. It keeps at least the newest
// event, so the exit event is always there once the exec finished.
type eventLog struct {
	limit int64 // bytes of frames kept

	mu     sync.Mutex
	frames [][]byte // frames[i] has seq first+i
	first  int64
	next   int64
	size   int64
	closed bool
	wake   chan struct{} // closed and replaced on every change
}

func newEventLog(limit int64) *eventLog {
	return &eventLog{limit: limit, first: 1, next: 1, wake: make(chan struct{})}
}

// append gives ev the next seq and adds it, dropping the oldest events
// beyond the limit.
func (l *eventLog) append(ev api.ExecEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev.Seq = l.next
	l.next++
	frame := sseFrame(ev)
	l.frames = append(l.frames, frame)
	l.size += int64(len(frame))
	for l.size > l.limit && len(l.frames) > 1 {
		l.size -= int64(len(l.frames[0]))
		l.frames[0] = nil
		l.frames = l.frames[1:]
		l.first++
	}
	l.notifyLocked()
}

// close marks the log complete: readers end once they read it all.
func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.notifyLocked()
}

func (l *eventLog) notifyLocked() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// logView is what a reader gets from since.
type logView struct {
	frames [][]byte
	last   int64         // seq of the last frame, valid when frames is not empty
	closed bool          // no event will follow the ones kept
	wake   chan struct{} // closed on the next change
}

// since is the kept events with seq > after. When events after `after`
// were already dropped, it starts at the oldest kept one.
func (l *eventLog) since(after int64) logView {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := logView{closed: l.closed, wake: l.wake}
	start := max(after+1-l.first, 0)
	if start < int64(len(l.frames)) {
		v.frames = append([][]byte(nil), l.frames[start:]...)
		v.last = l.next - 1
	}
	return v
}

// sseFrame is ev as one server-sent event.
func sseFrame(ev api.ExecEvent) []byte {
	data, err := json.Marshal(ev)
	if err != nil { // cannot happen: the type has only plain fields
		panic(fmt.Sprintf("marshal exec event: %v", err))
	}
	return fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, data)
}
