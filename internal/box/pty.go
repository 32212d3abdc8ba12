package box

import (
	"context"
	"fmt"
	"strings"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/panion/client"
)

// maxTermSide bounds a terminal's columns and rows.
const maxTermSide = 65535

// PTYRequest says what to run on a terminal: empty Argv is the box's
// shell, zero Cols and Rows are 80x24.
type PTYRequest = client.PTYRequest

// OpenPTY starts a process on a new pseudo-terminal in a running box. The
// box counts as busy, so it does not idle out, until the caller calls
// release, after closing the terminal. Closing the terminal while the
// process runs kills its session.
func (m *Manager) OpenPTY(ctx context.Context, owner, id string, req PTYRequest) (*client.PTY, func(), error) {
	if err := validatePTY(req); err != nil {
		return nil, nil, err
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	req.Env = h.withEnv(req.Env)
	t, err := h.agent.OpenPTY(ctx, req)
	if err != nil {
		m.release(h)
		return nil, nil, m.agentErr(ctx, h, err)
	}
	return t, func() { m.release(h) }, nil
}

func validatePTY(req PTYRequest) error {
	for i, a := range req.Argv {
		if strings.ContainsRune(a, 0) {
			return errs.New(errs.Invalid, "argv[%d] contains a NUL byte", i)
		}
	}
	if len(req.Argv) > 0 && req.Argv[0] == "" {
		return errs.New(errs.Invalid, "argv[0] must not be empty; leave argv out for the box's shell")
	}
	if err := validateEnv(req.Env); err != nil {
		return err
	}
	if req.Workdir != "" {
		if err := ValidatePath(req.Workdir); err != nil {
			return fmt.Errorf("workdir: %w", err)
		}
	}
	if req.Cols < 0 || req.Cols > maxTermSide || req.Rows < 0 || req.Rows > maxTermSide {
		return errs.New(errs.Invalid, "cols and rows must be between 1 and %d, got %dx%d", maxTermSide, req.Cols, req.Rows)
	}
	return nil
}
