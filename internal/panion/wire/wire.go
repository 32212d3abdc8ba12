// Package wire holds the JSON bodies of the hogpanion protocol that are not
// part of the public API (package api), shared by the agent and its client.
// docs/agent-protocol.md is the contract these types implement.
package wire

import "github.com/PostHog/hogland/api"

// DefaultMaxOutputBytes caps each of stdout and stderr of a batch exec when
// the request does not say otherwise.
const DefaultMaxOutputBytes = 1 << 20

// Health answers GET /v1/health.
type Health struct {
	Version  string `json:"version"`
	PID      int    `json:"pid"`
	UptimeMS int64  `json:"uptime_ms"`
}

// BatchExecRequest is the body of POST /v1/exec: an api.ExecRequest plus
// the output cap the host wants. Zero MaxOutputBytes means the default.
type BatchExecRequest struct {
	api.ExecRequest
	MaxOutputBytes int64 `json:"max_output_bytes,omitempty"`
}

// StartExecRequest is the body of POST /v1/execs: an api.ExecRequest plus
// whether stdin stays open after ExecRequest.Stdin for /stdin calls.
// Without KeepStdinOpen, stdin is Stdin then EOF, or /dev/null.
type StartExecRequest struct {
	api.ExecRequest
	KeepStdinOpen bool `json:"keep_stdin_open,omitempty"`
}

// StartedExec answers POST /v1/execs.
type StartedExec struct {
	ID string `json:"id"`
}

// ExecStatus answers GET /v1/execs/{id}. ExitCode is nil while the process
// runs; DurationMS counts up while it runs and is final once it exited.
type ExecStatus struct {
	ID         string `json:"id"`
	PID        int    `json:"pid"`
	Running    bool   `json:"running"`
	ExitCode   *int   `json:"exit_code"`
	TimedOut   bool   `json:"timed_out"`
	DurationMS int64  `json:"duration_ms"`
}

// SignalRequest is the body of POST /v1/execs/{id}/signal. Signal is a
// name with or without the SIG prefix ("TERM", "SIGKILL") or a number.
type SignalRequest struct {
	Signal string `json:"signal"`
}
