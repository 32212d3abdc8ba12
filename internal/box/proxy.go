package box

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// PreviewTokenPrefix starts every preview-link token.
const PreviewTokenPrefix = "ptk_"

// Access is who may reach a box's ports through the proxy.
type Access struct {
	Owner      string
	AccessType string
}

// ProxyAccess returns a box's owner and access type, for the proxy to
// decide whether a caller may pass. An unknown box is errs.NotFound.
func (m *Manager) ProxyAccess(ctx context.Context, id string) (Access, error) {
	if h := m.liveHandle(id); h != nil { // the hot path: no database read per proxied request
		return Access{Owner: h.owner, AccessType: h.access}, nil
	}
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return Access{}, err
	}
	return Access{Owner: b.OwnerID, AccessType: b.AccessType}, nil
}

// Proxy returns a transport that reaches ports inside a running box
// through its agent's relay (the request URL's port picks the box port),
// and a release func the caller calls when the proxied exchange is over.
// While the exchange lasts the box counts as busy, so long streams keep
// it from idling out. A paused box is errs.Conflict with Retry-After.
func (m *Manager) Proxy(ctx context.Context, owner, id string) (http.RoundTripper, func(), error) {
	h, err := m.lookup(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	h.mu.Lock()
	paused := h.status == api.StatusPaused && h.op == ""
	h.mu.Unlock()
	if paused {
		return nil, nil, errs.BusyFor(5*time.Second, "box %s is paused; resume it to reach its ports", id).WithKind(errs.Conflict)
	}
	h, err = m.ready(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	h.mu.Lock()
	if h.proxy == nil {
		agent := h.agent
		h.proxy = newProxyTransport(func(ctx context.Context, addr string) (net.Conn, error) {
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, err := strconv.Atoi(p)
			if err != nil {
				return nil, err
			}
			return agent.Relay(ctx, port)
		})
	}
	rt := h.proxy
	h.mu.Unlock()
	return rt, func() { m.release(h) }, nil
}

// PreviewToken is a minted preview link.
type PreviewToken struct {
	Record store.ProxyToken
	Secret string
}

// MintPreviewToken makes a token that opens one port of a box the caller
// owns until ttl passes.
func (m *Manager) MintPreviewToken(ctx context.Context, owner, id string, port int, ttl time.Duration) (PreviewToken, error) {
	if port < 1 || port > 65535 {
		return PreviewToken{}, errs.New(errs.Invalid, "port must be 1-65535, got %d", port)
	}
	if ttl < time.Second || ttl > 7*24*time.Hour {
		return PreviewToken{}, errs.New(errs.Invalid, "expires_in_seconds must be between 1 and %d", 7*24*3600)
	}
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return PreviewToken{}, err
	}
	if b.OwnerID != owner {
		return PreviewToken{}, notFound(id)
	}
	secret := PreviewTokenPrefix + auth.RandomID("", 40)
	now := time.Now().UTC()
	rec := store.ProxyToken{
		ID: auth.RandomID("ptid-", 12), BoxID: id, OwnerID: owner, Port: port,
		Hash: auth.HashToken(secret), CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := m.store.CreateProxyToken(ctx, rec); err != nil {
		return PreviewToken{}, err
	}
	return PreviewToken{Record: rec, Secret: secret}, nil
}

// CheckPreviewToken says whether secret opens port of box id: an unknown,
// expired or revoked token is errs.Unauthenticated; a token of another box
// or port is errs.PermissionDenied.
func (m *Manager) CheckPreviewToken(ctx context.Context, secret, id string, port int) error {
	t, err := m.store.ProxyTokenByHash(ctx, auth.HashToken(secret))
	if errs.Is(err, errs.NotFound) {
		return errs.New(errs.Unauthenticated, "preview token is not valid")
	}
	if err != nil {
		return err
	}
	switch {
	case t.RevokedAt != nil:
		return errs.New(errs.Unauthenticated, "preview token %s was revoked", t.ID)
	case !time.Now().Before(t.ExpiresAt):
		return errs.New(errs.Unauthenticated, "preview token %s expired at %s", t.ID, t.ExpiresAt.Format(time.RFC3339))
	case t.BoxID != id:
		return errs.New(errs.PermissionDenied, "preview token %s is for another box", t.ID)
	case t.Port != port:
		return errs.New(errs.PermissionDenied, "preview token %s opens port %d, not %d", t.ID, t.Port, port)
	}
	return nil
}

// PreviewTokens lists the preview tokens of a box the caller owns.
func (m *Manager) PreviewTokens(ctx context.Context, owner, id string) ([]store.ProxyToken, error) {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != owner {
		return nil, notFound(id)
	}
	return m.store.ProxyTokens(ctx, id)
}

// RevokePreviewToken revokes a preview token of a box the caller owns.
func (m *Manager) RevokePreviewToken(ctx context.Context, owner, id, tokenID string) error {
	b, err := m.store.Box(ctx, id)
	if err != nil {
		return err
	}
	if b.OwnerID != owner {
		return notFound(id)
	}
	return m.store.RevokeProxyToken(ctx, id, tokenID, time.Now().UTC())
}
