package auth

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// Trust mapping kinds.
const (
	KindK8sSA     = api.TrustK8sSA
	KindGitHub    = api.TrustGitHub
	KindTailscale = api.TrustTailscale
)

// DefaultGitHubIssuer is the issuer of GitHub Actions OIDC tokens.
const DefaultGitHubIssuer = "https://token.actions.githubusercontent.com"

// matchKeys are the claims a mapping of each kind may match on.
var matchKeys = map[string][]string{
	KindK8sSA:     {"namespace", "service_account"},
	KindGitHub:    {"repository", "repository_owner", "ref", "ref_type", "environment", "workflow", "job_workflow_ref", "event_name", "actor", "sub"},
	KindTailscale: {"login"},
}

// ValidateMapping checks a trust mapping an admin asks for, filling in the
// issuer of a GitHub mapping (githubIssuer) when it names none. The rules
// keep a mapping from admitting more than its author meant:
//   - k8s_sa names an issuer, a namespace and a service_account;
//   - github names a repository or a repository_owner whose owner part is
//     literal (no glob), so no mapping admits every repository on GitHub;
//   - tailscale names a login;
//   - match values are exact strings or path.Match globs ('*' stops at '/');
//   - provision (a principal per identity) is for tailscale only; every
//     other mapping names its principal_id.
func ValidateMapping(m *store.TrustMapping, githubIssuer string) error {
	keys, ok := matchKeys[m.Kind]
	if !ok {
		return errs.New(errs.Invalid, "kind must be %s, %s or %s, got %q", KindK8sSA, KindGitHub, KindTailscale, m.Kind)
	}
	for k, v := range m.Match {
		if !slices.Contains(keys, k) {
			return errs.New(errs.Invalid, "match key %q is not one of %s for kind %s", k, strings.Join(keys, ", "), m.Kind)
		}
		if v == "" || len(v) > 512 {
			return errs.New(errs.Invalid, "match %s must be 1-512 characters", k)
		}
		if _, err := path.Match(v, ""); err != nil {
			return errs.New(errs.Invalid, "match %s: %q is not a valid glob", k, v)
		}
	}
	switch m.Kind {
	case KindK8sSA:
		if m.Issuer == "" {
			return errs.New(errs.Invalid, "a k8s_sa mapping needs the cluster's OIDC issuer URL (for EKS: aws eks describe-cluster --query cluster.identity.oidc.issuer)")
		}
		if m.Match["namespace"] == "" || m.Match["service_account"] == "" {
			return errs.New(errs.Invalid, "a k8s_sa mapping matches on namespace and service_account; give both")
		}
	case KindGitHub:
		if m.Issuer == "" {
			m.Issuer = githubIssuer
		}
		owner := m.Match["repository_owner"]
		if repo := m.Match["repository"]; repo != "" {
			owner, _, _ = strings.Cut(repo, "/")
		}
		if owner == "" || isGlob(owner) {
			return errs.New(errs.Invalid, "a github mapping needs a repository (OWNER/REPO, REPO may be a glob) or a repository_owner, with a literal owner; otherwise any repository on GitHub would match")
		}
	case KindTailscale:
		if m.Issuer != "" {
			return errs.New(errs.Invalid, "a tailscale mapping has no issuer")
		}
		if m.Match["login"] == "" {
			return errs.New(errs.Invalid, "a tailscale mapping matches on login (e.g. \"*@example.com\")")
		}
	}
	if m.Issuer != "" {
		if err := validateIssuer(m.Issuer); err != nil {
			return err
		}
	}
	switch {
	case m.Provision && m.Kind != KindTailscale:
		return errs.New(errs.Invalid, "provision is only for tailscale mappings; name a principal_id")
	case m.Provision && m.PrincipalID != "":
		return errs.New(errs.Invalid, "give either principal_id or provision, not both")
	case !m.Provision && m.PrincipalID == "":
		return errs.New(errs.Invalid, "principal_id is required (or, for tailscale, provision: true)")
	}
	return nil
}

// validateIssuer accepts https URLs, and http ones only on loopback (a
// local test issuer): keys fetched in the clear could be swapped.
func validateIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errs.New(errs.Invalid, "issuer %q must be an https URL with no query or fragment", iss)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			return nil
		}
	}
	return errs.New(errs.Invalid, "issuer %q must be an https URL (http is allowed on loopback only)", iss)
}

// bestMatch returns the mapping that matches attrs most specifically: the
// most exact members, then the most members, then the oldest. A claim the
// identity lacks matches nothing, not even "*".
func bestMatch(ms []store.TrustMapping, attrs map[string]string) (store.TrustMapping, bool) {
	type scored struct {
		m             store.TrustMapping
		exact, globby int
	}
	var found []scored
	for _, m := range ms {
		s := scored{m: m}
		ok := true
		for k, pattern := range m.Match {
			v, has := attrs[k]
			if !has || v == "" || !globMatch(pattern, v) {
				ok = false
				break
			}
			if isGlob(pattern) {
				s.globby++
			} else {
				s.exact++
			}
		}
		if ok {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return store.TrustMapping{}, false
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.exact != b.exact {
			return a.exact > b.exact
		}
		return a.exact+a.globby > b.exact+b.globby
	})
	return found[0].m, true
}

func globMatch(pattern, v string) bool {
	if !isGlob(pattern) {
		return pattern == v
	}
	ok, err := path.Match(pattern, v)
	return err == nil && ok
}

func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// principalFor returns the principal a matched mapping names, or, for a
// provisioning mapping, the identity's own principal (made on first use).
func (a *Authenticator) principalFor(ctx context.Context, m store.TrustMapping, subject string) (store.Principal, error) {
	if !m.Provision {
		p, err := a.Store.Principal(ctx, m.PrincipalID)
		if errs.Is(err, errs.NotFound) {
			return store.Principal{}, errs.New(errs.PermissionDenied, "trust mapping %s names principal %s, which no longer exists", m.ID, m.PrincipalID)
		}
		return p, err
	}
	p := store.Principal{ID: RandomID("prn-", 12), Name: provisionedName(subject), Kind: "user", CreatedAt: a.now().UTC()}
	p, err := a.Store.ProvisionPrincipal(ctx, m.Kind, subject, p)
	if err != nil {
		return store.Principal{}, fmt.Errorf("provision principal for %s: %w", subject, err)
	}
	return p, nil
}

// provisionedName is the principal name of a provisioned identity: the
// login itself, trimmed to a sane length.
func provisionedName(subject string) string {
	if len(subject) > 120 {
		subject = subject[:120]
	}
	return subject
}

// refusal is the problem for an identity that proved who it is but that
// no mapping admits: a fresh token would not help, so it is a 403.
func refusal(format string, args ...any) error {
	return errs.New(errs.PermissionDenied, format, args...)
}
