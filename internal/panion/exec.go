package panion

import (
	"net/http"
	"syscall"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// maxOutputLimit is the largest max_output_bytes accepted.
const maxOutputLimit = 256 << 20

// execBatch serves POST /v1/exec: run a process to its end and answer its
// captured output. If the caller goes away first, the process group is
// killed.
func (s *Server) execBatch(w http.ResponseWriter, r *http.Request) {
	var req wire.BatchExecRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := req.MaxOutputBytes
	switch {
	case limit == 0:
		limit = wire.DefaultMaxOutputBytes
	case limit < 0 || limit > maxOutputLimit:
		s.fail(w, r, errs.New(errs.Invalid, "max_output_bytes must be between 1 and %d", maxOutputLimit))
		return
	}
	cmd, err := prepare(req.ExecRequest, s.environ())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stdout, stderr := &cappedBuffer{limit: limit}, &cappedBuffer{limit: limit}
	p, err := s.startProc(procConfig{cmd: cmd, stdout: stdout, stderr: stderr})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	select {
	case <-p.Done():
	case <-r.Context().Done():
		_ = p.signal(syscall.SIGKILL)
		<-p.Done()
		return
	}
	res := p.Result()
	writeJSON(w, http.StatusOK, api.ExecResult{
		ExitCode: res.exitCode, TimedOut: res.timedOut, DurationMS: res.duration.Milliseconds(),
		Stdout: stdout.String(), StdoutTruncated: stdout.truncated,
		Stderr: stderr.String(), StderrTruncated: stderr.truncated,
	})
}
