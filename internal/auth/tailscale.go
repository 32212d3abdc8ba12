package auth

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode"

	"github.com/PostHog/hogland/internal/errs"
)

// Headers a Tailscale ingress (tailscale serve, or the Tailscale
// Kubernetes operator's ingress) sets to name the tailnet user.
const (
	HeaderTailscaleLogin  = "Tailscale-User-Login"
	HeaderTailscaleName   = "Tailscale-User-Name"
	tailscaleHeaderPrefix = "Tailscale-"
)

// Tailscale says which peers are Tailscale ingress proxies, whose identity
// headers are believed. The zero value (or nil) believes no one.
type Tailscale struct {
	Proxies []netip.Prefix
}

// ParseProxy parses a trusted proxy address: a CIDR prefix or a bare IP.
func ParseProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("tailscale proxy %q is neither an IP address nor a CIDR prefix", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Trusted reports whether r comes straight from a trusted proxy. Only the
// TCP peer counts: X-Forwarded-For can be forged by anyone.
func (t *Tailscale) Trusted(r *http.Request) bool {
	if t == nil || len(t.Proxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range t.Proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Sanitize deletes every Tailscale-* header from a request that does not
// come from a trusted proxy, so that neither hogplane nor a box behind
// its proxy ever sees a forged tailnet identity.
func (t *Tailscale) Sanitize(r *http.Request) {
	if !t.Trusted(r) {
		StripHeaders(r.Header)
	}
}

// StripHeaders deletes every Tailscale-* header from h.
func StripHeaders(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, tailscaleHeaderPrefix) {
			delete(h, k)
		}
	}
}

// authenticateTailscale resolves a tailnet login vouched for by a trusted
// proxy through the tailscale trust mappings.
func (a *Authenticator) authenticateTailscale(ctx context.Context, login, name string) (Identity, error) {
	if len(login) > 256 || strings.ContainsFunc(login, unicode.IsControl) {
		return Identity{}, errs.New(errs.Unauthenticated, "%s header is not a valid login", HeaderTailscaleLogin)
	}
	mappings, err := a.Store.TrustMappingsFor(ctx, KindTailscale, "")
	if err != nil {
		return Identity{}, err
	}
	m, ok := bestMatch(mappings, map[string]string{"login": login})
	if !ok {
		return Identity{}, refusal("tailnet user %s is not mapped to a principal (an admin adds a tailscale trust mapping for it)", login)
	}
	p, err := a.principalFor(ctx, m, login)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Principal: p, Path: PathTailscale, MappingID: m.ID, Subject: login, DisplayName: decodeHeaderWord(name)}, nil
}

// decodeHeaderWord decodes an RFC 2047 encoded word, which tailscale serve
// uses for names that are not ASCII.
func decodeHeaderWord(s string) string {
	dec := new(mime.WordDecoder)
	if out, err := dec.DecodeHeader(s); err == nil {
		s = out
	}
	if len(s) > 256 || strings.ContainsFunc(s, unicode.IsControl) {
		return ""
	}
	return s
}
