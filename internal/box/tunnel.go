package box

import (
	"context"
	"net"

	"github.com/PostHog/hogland/internal/errs"
)

// Tunnel opens a raw TCP stream to port on the loopback of a running box,
// through its agent's relay. The box counts as busy until the caller
// calls release, after closing the stream. A port nothing listens on is
// errs.BadGateway. The stream also has CloseWrite (a half-close).
func (m *Manager) Tunnel(ctx context.Context, owner, id string, port int) (net.Conn, func(), error) {
	if port < 1 || port > 65535 {
		return nil, nil, errs.New(errs.Invalid, "port must be 1-65535, got %d", port)
	}
	h, err := m.ready(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := h.agent.Relay(ctx, port)
	if err != nil {
		m.release(h)
		return nil, nil, m.agentErr(ctx, h, err)
	}
	return c, func() { m.release(h) }, nil
}
