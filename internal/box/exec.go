package box

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/panion/client"
)

// Exec runs a command in a running box and returns once it exits.
func (m *Manager) Exec(ctx context.Context, owner, id string, req api.ExecRequest) (api.ExecResult, error) {
	if err := validateExec(&req, m.cfg.Limits, false); err != nil {
		return api.ExecResult{}, err
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return api.ExecResult{}, err
	}
	defer m.release(h)
	defer m.observe(execSeconds, "batch", time.Now())
	req.Env = h.withEnv(req.Env)
	res, err := h.agent.Exec(ctx, req, m.cfg.Limits.ExecOutputBytes)
	if err != nil {
		return api.ExecResult{}, m.agentErr(ctx, h, err)
	}
	return res, nil
}

// StartExec starts a command in a running box and returns its exec id;
// its output is read with Events.
func (m *Manager) StartExec(ctx context.Context, owner, id string, req api.ExecRequest) (string, error) {
	if err := validateExec(&req, m.cfg.Limits, true); err != nil {
		return "", err
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return "", err
	}
	defer m.release(h)
	defer m.observe(execSeconds, "stream", time.Now())
	req.Env = h.withEnv(req.Env)
	execID, err := h.agent.StartExecWith(ctx, req, client.StartOptions{KeepStdinOpen: req.StdinOpen})
	if err != nil {
		return "", m.agentErr(ctx, h, err)
	}
	return execID, nil
}

// ExecStdin streams body to the stdin of a running exec, then closes its
// stdin unless keepOpen. An exec started without stdin_open has no stdin
// left to write to (errs.Conflict from the agent).
func (m *Manager) ExecStdin(ctx context.Context, owner, id, execID string, body io.Reader, keepOpen bool) error {
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return err
	}
	defer m.release(h)
	if keepOpen {
		err = h.agent.AppendStdin(ctx, execID, body)
	} else {
		err = h.agent.WriteStdin(ctx, execID, body)
	}
	if err != nil {
		return m.agentErr(ctx, h, err)
	}
	return nil
}

// ExecSignal sends a signal to an exec's process group.
func (m *Manager) ExecSignal(ctx context.Context, owner, id, execID, signal string) error {
	if signal == "" {
		return errs.New(errs.Invalid, "signal is required, e.g. \"TERM\" or \"KILL\"")
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return err
	}
	defer m.release(h)
	if err := h.agent.Signal(ctx, execID, signal); err != nil {
		return m.agentErr(ctx, h, err)
	}
	return nil
}

// Events streams the raw server-sent events of an exec with seq > after,
// until the exec's exit event. The caller closes the stream.
func (m *Manager) Events(ctx context.Context, owner, id, execID string, after int64) (io.ReadCloser, error) {
	return m.openStream(ctx, owner, id, func(a *client.Client) (io.ReadCloser, error) { return a.Events(ctx, execID, after) })
}

// WriteFile writes body to path in the box, atomically. size is body's
// length when known (the request's Content-Length), else -1.
func (m *Manager) WriteFile(ctx context.Context, owner, id, path string, mode os.FileMode, mkdir bool, body io.Reader, size int64) (api.FileInfo, error) {
	if err := ValidatePath(path); err != nil {
		return api.FileInfo{}, err
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return api.FileInfo{}, err
	}
	defer m.release(h)
	hr := newHashingReader(body)
	defer hr.Close()
	fi, err := h.agent.WriteFileWith(ctx, path, hr, client.WriteOptions{Mode: mode, Mkdir: mkdir, NoHash: true, Size: size})
	if err != nil {
		return api.FileInfo{}, m.agentErr(ctx, h, err)
	}
	n, sum := hr.Sum()
	if n != fi.Size {
		return api.FileInfo{}, errs.New(errs.Internal, "box %s: %s: sent %d bytes but the agent wrote %d", id, path, n, fi.Size)
	}
	fi.SHA256 = sum
	return fi, nil
}

// ReadFile opens path in the box for streaming. The caller closes it.
func (m *Manager) ReadFile(ctx context.Context, owner, id, path string) (io.ReadCloser, error) {
	if err := ValidatePath(path); err != nil {
		return nil, err
	}
	return m.openStream(ctx, owner, id, func(a *client.Client) (io.ReadCloser, error) { return a.ReadFile(ctx, path) })
}

// openStream opens a stream from the agent of a running box; the call
// counts as in flight until the caller closes the stream.
func (m *Manager) openStream(ctx context.Context, owner, id string, open func(*client.Client) (io.ReadCloser, error)) (io.ReadCloser, error) {
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	rc, err := open(h.agent)
	if err != nil {
		m.release(h)
		return nil, m.agentErr(ctx, h, err)
	}
	return &callBody{ReadCloser: rc, done: func() { m.release(h) }}, nil
}

// callBody ends its call when closed.
type callBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (c *callBody) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.done)
	return err
}

// agentErr passes on errors the agent gave a kind to (a missing file is a
// 404), and explains the rest: a box whose agent stopped answering.
func (m *Manager) agentErr(ctx context.Context, h *handle, err error) error {
	if ctx.Err() != nil {
		return errs.Wrap(errs.Unavailable, err, "request cancelled")
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		return err
	}
	m.log.Warn("box agent call failed", "box", h.id, "err", err)
	return errs.Wrap(errs.BadGateway, err, "box %s: its agent did not answer; the box may have stopped", h.id)
}

func execSeconds(m *metrics.Metrics) *prometheus.HistogramVec { return m.ExecSeconds }
