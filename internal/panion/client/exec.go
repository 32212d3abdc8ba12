package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/panion/wire"
)

// Exec runs a process to its end and answers its outcome; stdout and
// stderr are each capped at maxOutput bytes (0: the agent's default, 1 MiB).
// Cancelling ctx kills the process group.
func (c *Client) Exec(ctx context.Context, req api.ExecRequest, maxOutput int64) (api.ExecResult, error) {
	var res api.ExecResult
	in := wire.BatchExecRequest{ExecRequest: req, MaxOutputBytes: maxOutput}
	err := c.doJSON(ctx, request{method: http.MethodPost, path: "/v1/exec", want: http.StatusOK}, in, &res)
	return res, err
}

// StartOptions tune StartExecWith.
type StartOptions struct {
	// KeepStdinOpen leaves stdin open after ExecRequest.Stdin, for
	// WriteStdin and AppendStdin. Otherwise stdin ends after it.
	KeepStdinOpen bool
}

// StartExec starts a streaming exec and answers its id. Its stdin is
// req.Stdin, then EOF.
func (c *Client) StartExec(ctx context.Context, req api.ExecRequest) (string, error) {
	return c.StartExecWith(ctx, req, StartOptions{})
}

// StartExecWith starts a streaming exec with options and answers its id.
func (c *Client) StartExecWith(ctx context.Context, req api.ExecRequest, opts StartOptions) (string, error) {
	var out wire.StartedExec
	in := wire.StartExecRequest{ExecRequest: req, KeepStdinOpen: opts.KeepStdinOpen}
	err := c.doJSON(ctx, request{method: http.MethodPost, path: "/v1/execs", want: http.StatusCreated}, in, &out)
	return out.ID, err
}

// ExecStatus answers the state of a streaming exec.
func (c *Client) ExecStatus(ctx context.Context, id string) (ExecStatus, error) {
	var st ExecStatus
	err := c.doJSON(ctx, request{method: http.MethodGet, path: execPath(id, ""), want: http.StatusOK}, nil, &st)
	return st, err
}

// Events opens the event stream of a streaming exec from the event after
// seq `after` (0: from the start) and answers the raw text/event-stream
// body, unbuffered; ReadEvents parses it. The stream ends after the exit
// event. The caller closes it; cancelling ctx ends it too.
func (c *Client) Events(ctx context.Context, id string, after int64) (io.ReadCloser, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: execPath(id, "/events"), query: q, want: http.StatusOK})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WriteStdin streams r to the stdin of a streaming exec started with
// KeepStdinOpen, then closes that stdin. It fails with errs.Conflict when
// that stdin is closed or the process exited.
func (c *Client) WriteStdin(ctx context.Context, id string, r io.Reader) error {
	return c.writeStdin(ctx, id, r, true)
}

// AppendStdin streams r to the stdin of a streaming exec started with
// KeepStdinOpen and leaves that stdin open for more.
func (c *Client) AppendStdin(ctx context.Context, id string, r io.Reader) error {
	return c.writeStdin(ctx, id, r, false)
}

func (c *Client) writeStdin(ctx context.Context, id string, r io.Reader, closeAfter bool) error {
	q := url.Values{"close": {strconv.FormatBool(closeAfter)}}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: execPath(id, "/stdin"), query: q,
		body: r, ctype: "application/octet-stream", want: http.StatusNoContent})
	if err != nil {
		return err
	}
	closeBody(resp.Body)
	return nil
}

// Signal sends a signal ("TERM", "KILL", "INT", ...) to the process group
// of a streaming exec. It fails with errs.Conflict once the process exited.
func (c *Client) Signal(ctx context.Context, id, sig string) error {
	return c.doJSON(ctx, request{method: http.MethodPost, path: execPath(id, "/signal"), want: http.StatusNoContent},
		wire.SignalRequest{Signal: sig}, nil)
}

func execPath(id, suffix string) string {
	return "/v1/execs/" + url.PathEscape(id) + suffix
}
