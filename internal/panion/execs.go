package panion

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// execution is one streaming exec: its process and its events.
type execution struct {
	id   string
	proc *proc
	log  *eventLog
}

// registry holds the streaming execs by id until they expire.
type registry struct {
	mu sync.Mutex
	m  map[string]*execution
}

func (g *registry) add(e *execution) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[string]*execution)
	}
	g.m[e.id] = e
}

func (g *registry) remove(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, id)
}

// get finds an exec, or answers a NotFound error.
func (g *registry) get(id string, retention time.Duration) (*execution, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.m[id]; ok {
		return e, nil
	}
	return nil, errs.New(errs.NotFound, "no exec %q in this box (finished execs are kept for %s)", id, retention)
}

// startExec serves POST /v1/execs.
func (s *Server) startExec(w http.ResponseWriter, r *http.Request) {
	var req wire.StartExecRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	cmd, err := prepare(req.ExecRequest, s.environ())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e := &execution{id: newExecID(), log: newEventLog(s.cfg.EventBytes)}
	out := &streamSink{log: e.log, kind: api.EventStdout}
	serr := &streamSink{log: e.log, kind: api.EventStderr}
	e.proc, err = s.startProc(procConfig{cmd: cmd, stdout: out, stderr: serr, keepStdin: req.KeepStdinOpen})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.execs.add(e)
	s.log.Info("exec started", "id", e.id, "pid", e.proc.pid, "argv0", cmd.argv[0])
	go s.finishExec(e, out, serr)
	writeJSON(w, http.StatusCreated, wire.StartedExec{ID: e.id})
}

// finishExec adds the exit event once the process ended, and drops the
// exec after the retention period.
func (s *Server) finishExec(e *execution, out, serr *streamSink) {
	<-e.proc.Done()
	out.flush()
	serr.flush()
	res := e.proc.Result()
	code := res.exitCode
	e.log.append(api.ExecEvent{Kind: api.EventExit, ExitCode: &code, TimedOut: res.timedOut,
		DurationMS: res.duration.Milliseconds()})
	e.log.close()
	s.log.Info("exec finished", "id", e.id, "exit_code", code, "timed_out", res.timedOut)
	time.AfterFunc(s.cfg.ExecRetention, func() { s.execs.remove(e.id) })
}

// execStatus serves GET /v1/execs/{id}.
func (s *Server) execStatus(w http.ResponseWriter, r *http.Request) {
	e, err := s.execs.get(r.PathValue("id"), s.cfg.ExecRetention)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := wire.ExecStatus{ID: e.id, PID: e.proc.pid, Running: true,
		DurationMS: time.Since(e.proc.start).Milliseconds()}
	select {
	case <-e.proc.Done():
		res := e.proc.Result()
		st.Running, st.ExitCode, st.TimedOut = false, &res.exitCode, res.timedOut
		st.DurationMS = res.duration.Milliseconds()
	default:
	}
	writeJSON(w, http.StatusOK, st)
}

// execSignal serves POST /v1/execs/{id}/signal.
func (s *Server) execSignal(w http.ResponseWriter, r *http.Request) {
	e, err := s.execs.get(r.PathValue("id"), s.cfg.ExecRetention)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req wire.SignalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	sig, err := parseSignal(req.Signal)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch err := e.proc.signal(sig); {
	case errors.Is(err, errExited):
		s.fail(w, r, errs.New(errs.Conflict, "exec %s has already exited", e.id))
	case err != nil:
		s.fail(w, r, errs.Wrap(errs.PermissionDenied, err, "cannot signal exec %s: %v", e.id, err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// streamSink turns output chunks into events. A UTF-8 sequence split
// between two reads is held back and sent whole with the next chunk.
// It is not safe for concurrent use; its gate serialises writes.
type streamSink struct {
	log   *eventLog
	kind  string
	carry []byte
}

func (k *streamSink) Write(p []byte) (int, error) {
	n := len(p)
	if len(k.carry) > 0 {
		p = append(k.carry, p...)
	}
	cut := completeUTF8(p)
	if cut > 0 {
		k.log.append(api.ExecEvent{Kind: k.kind, Data: string(p[:cut])})
	}
	k.carry = bytes.Clone(p[cut:])
	return n, nil
}

// flush sends what is held back, once no more output will come.
func (k *streamSink) flush() {
	if len(k.carry) > 0 {
		k.log.append(api.ExecEvent{Kind: k.kind, Data: string(k.carry)})
		k.carry = nil
	}
}

func newExecID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "exe-" + hex.EncodeToString(b)
}
