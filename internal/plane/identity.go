package plane

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/server"
	"github.com/PostHog/hogland/internal/store"
)

// IdentityOptions are hogplane serve's settings for authentication,
// default quotas, rate limits and the audit log.
type IdentityOptions struct {
	OIDCAudience     string
	GitHubIssuer     string
	TailscaleProxies proxyList
	Rate             auth.RateLimits
	Quota            quotaFlags
	AuditRetention   time.Duration
}

type quotaFlags struct {
	MaxBoxes, MaxCPUs, MaxMemoryMiB, MaxSnapshotBytes int64
}

func (o *IdentityOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.OIDCAudience, "oidc-audience", auth.DefaultAudience, "audience Kubernetes and GitHub OIDC tokens must carry")
	fs.StringVar(&o.GitHubIssuer, "github-oidc-issuer", auth.DefaultGitHubIssuer, "issuer of GitHub Actions OIDC tokens (the default issuer of github trust mappings)")
	fs.Var(&o.TailscaleProxies, "tailscale-proxy", "address (CIDR or IP) of a Tailscale ingress proxy whose Tailscale-User-* headers are trusted; repeatable (default: none)")
	r := auth.DefaultRateLimits()
	fs.Float64Var(&o.Rate.PerSecond, "rate-limit", r.PerSecond, "calls per second per principal (0: no limit)")
	fs.IntVar(&o.Rate.Burst, "rate-burst", r.Burst, "burst of calls per principal")
	fs.Float64Var(&o.Rate.CreatePerSecond, "create-rate-limit", r.CreatePerSecond, "creates per second per principal (0: no limit)")
	fs.IntVar(&o.Rate.CreateBurst, "create-burst", r.CreateBurst, "burst of creates per principal")
	q := box.DefaultLimits().Quota
	fs.Int64Var(&o.Quota.MaxBoxes, "quota-max-boxes", q.MaxBoxes, "default quota: live boxes per principal")
	fs.Int64Var(&o.Quota.MaxCPUs, "quota-max-cpus", q.MaxCPUs, "default quota: CPUs across a principal's live boxes")
	fs.Int64Var(&o.Quota.MaxMemoryMiB, "quota-max-memory-mib", q.MaxMemoryMiB, "default quota: memory (MiB) across a principal's live boxes")
	fs.Int64Var(&o.Quota.MaxSnapshotBytes, "quota-max-snapshot-bytes", q.MaxSnapshotBytes, "default quota: bytes of snapshots per principal")
	fs.DurationVar(&o.AuditRetention, "audit-retention", server.DefaultAuditRetention, "how long audit log entries are kept")
}

// limits applies the default quota flags to l.
func (o *IdentityOptions) limits(l box.Limits) box.Limits {
	l.Quota.MaxBoxes, l.Quota.MaxCPUs = o.Quota.MaxBoxes, o.Quota.MaxCPUs
	l.Quota.MaxMemoryMiB, l.Quota.MaxSnapshotBytes = o.Quota.MaxMemoryMiB, o.Quota.MaxSnapshotBytes
	return l
}

func (o *IdentityOptions) authenticator(st *store.Store) *auth.Authenticator {
	return &auth.Authenticator{
		Store:     st,
		OIDC:      auth.NewOIDC(auth.OIDCConfig{Audience: o.OIDCAudience, GitHubIssuer: o.GitHubIssuer}),
		Tailscale: &auth.Tailscale{Proxies: o.TailscaleProxies},
	}
}

func (o *IdentityOptions) limiter() *auth.RateLimiter {
	return auth.NewRateLimiter(o.Rate, nil)
}

// proxyList is a repeatable flag of trusted proxy prefixes.
type proxyList []netip.Prefix

func (p *proxyList) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *proxyList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		pfx, err := auth.ParseProxy(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("--tailscale-proxy: %w", err)
		}
		*p = append(*p, pfx)
	}
	return nil
}
