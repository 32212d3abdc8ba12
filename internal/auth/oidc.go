package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/time/rate"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// DefaultAudience is the audience hogland expects in OIDC tokens.
const DefaultAudience = "hogland"

// OIDCConfig configures OIDC token verification.
type OIDCConfig struct {
	// Audience every token must carry (default "hogland").
	Audience string
	// GitHubIssuer is the issuer a github mapping gets when it names none
	// (default https://token.actions.githubusercontent.com).
	GitHubIssuer string
	// Client fetches discovery documents and key sets (default: a client
	// with a 10 s timeout).
	Client *http.Client
	// KeysMaxAge is how long fetched keys are used before they are fetched
	// again (default 1 h).
	KeysMaxAge time.Duration
	// KeyRefreshEvery spaces the key refetches an unknown key id may cause
	// after the first few (default 10 s).
	KeyRefreshEvery time.Duration
	Now             func() time.Time
}

// OIDC verifies JWTs from issuers that trust mappings name. It discovers
// each issuer once (OIDC discovery, via go-oidc) and keeps its verifier
// and keys; an issuer no mapping names is never contacted, so a crafted
// "iss" cannot make hogplane fetch arbitrary URLs.
type OIDC struct {
	cfg OIDCConfig

	mu      sync.Mutex
	issuers map[string]*issuer
}

// issuer is the cached state of one trusted issuer.
type issuer struct {
	url string

	mu       sync.Mutex // held during discovery
	verifier *oidc.IDTokenVerifier
	keys     *keySet
	failed   time.Time
	failErr  error
}

// NewOIDC makes an OIDC verifier, filling in defaults.
func NewOIDC(cfg OIDCConfig) *OIDC {
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.GitHubIssuer == "" {
		cfg.GitHubIssuer = DefaultGitHubIssuer
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.KeysMaxAge <= 0 {
		cfg.KeysMaxAge = time.Hour
	}
	if cfg.KeyRefreshEvery <= 0 {
		cfg.KeyRefreshEvery = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OIDC{cfg: cfg, issuers: map[string]*issuer{}}
}

// Audience is the audience tokens must carry.
func (o *OIDC) Audience() string { return o.cfg.Audience }

// GitHubIssuer is the default issuer of github mappings.
func (o *OIDC) GitHubIssuer() string {
	if o == nil {
		return DefaultGitHubIssuer
	}
	return o.cfg.GitHubIssuer
}

// maxJWT caps the size of a JWT credential.
const maxJWT = 16 << 10

// looksLikeJWT reports whether a credential has the shape of a compact
// JWS: three base64url segments, the first a JSON object ("eyJ").
func looksLikeJWT(cred string) bool {
	return strings.HasPrefix(cred, "eyJ") && strings.Count(cred, ".") == 2
}

// verified is a token whose signature, issuer, expiry and audience hold.
type verified struct {
	issuer  string
	subject string
	payload []byte // the claims, as signed
}

// verify checks raw, a JWT whose issuer iss is trusted, and returns its
// claims. kind (k8s_sa or github) only shapes the error messages.
func (o *OIDC) verify(ctx context.Context, iss, kind, raw string) (verified, error) {
	is, err := o.issuer(ctx, iss)
	if err != nil {
		return verified{}, err
	}
	// The key set first, for an error that says what is wrong; go-oidc
	// then checks the algorithm, issuer and expiry, and asks the key set
	// again, which answers from ctx rather than verify twice.
	payload, err := is.keys.VerifySignature(ctx, raw)
	if err != nil {
		return verified{}, err
	}
	tok, err := is.verifier.Verify(context.WithValue(ctx, checkedKey{}, checked{raw: raw, payload: payload}), raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return verified{}, errs.New(errs.Unauthenticated, "token expired at %s; %s", expired.Expiry.UTC().Format(time.RFC3339), freshTokenHint(kind))
	case err != nil:
		return verified{}, errs.New(errs.Unauthenticated, "token from %s is not valid: %v", iss, err)
	}
	if !slices.Contains(tok.Audience, o.cfg.Audience) {
		return verified{}, o.audienceError(kind, tok.Audience)
	}
	return verified{issuer: iss, subject: tok.Subject, payload: payload}, nil
}

// apiServerAudiences are audiences of a pod's default service-account
// token (for the Kubernetes API server, or for AWS STS via IRSA).
var apiServerAudiences = []string{
	"https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local",
	"kubernetes.default.svc", "kubernetes",
}

func (o *OIDC) audienceError(kind string, aud []string) error {
	want := o.cfg.Audience
	if kind == KindGitHub {
		return errs.New(errs.Unauthenticated, "token audience %q is not %q: request the GitHub Actions token with audience %q (core.getIDToken(%q), or $ACTIONS_ID_TOKEN_REQUEST_URL&audience=%s)", aud, want, want, want, want)
	}
	for _, a := range aud {
		whose := ""
		switch {
		case a == "sts.amazonaws.com":
			whose = "AWS STS's (the pod's IRSA web-identity token)"
		case slices.Contains(apiServerAudiences, a) || strings.HasSuffix(a, ".svc") || strings.HasSuffix(a, ".svc.cluster.local"):
			whose = "the Kubernetes API server's (the pod's default service-account token)"
		default:
			continue
		}
		return errs.New(errs.Unauthenticated, "token audience %q is %s, not %q: mount a projected service-account token with audience %q (volumes: projected: sources: serviceAccountToken: {audience: %s, path: token}) and send that instead", aud, whose, want, want, want)
	}
	return errs.New(errs.Unauthenticated, "token audience %q is not %q: mount a projected service-account token with audience %q and send that", aud, want, want)
}

func freshTokenHint(kind string) string {
	if kind == KindGitHub {
		return "request a fresh token from GitHub Actions"
	}
	return "the kubelet refreshes projected tokens on disk, so read the token file on every request rather than once at start"
}

// issuer returns the verifier of a trusted issuer, discovering it on
// first use. A failed discovery is remembered for a few seconds.
func (o *OIDC) issuer(ctx context.Context, url string) (*issuer, error) {
	o.mu.Lock()
	is := o.issuers[url]
	if is == nil {
		is = &issuer{url: url}
		o.issuers[url] = is
	}
	o.mu.Unlock()

	is.mu.Lock()
	defer is.mu.Unlock()
	if is.verifier != nil {
		return is, nil
	}
	if !is.failed.IsZero() && o.cfg.Now().Sub(is.failed) < fetchBackoff {
		return nil, is.failErr
	}
	if err := o.discover(ctx, is); err != nil {
		e := errs.Wrap(errs.Unavailable, err, "cannot discover OIDC issuer %s (GET %s/.well-known/openid-configuration): %v; retry shortly", url, strings.TrimSuffix(url, "/"), err)
		e.RetryAfter = fetchBackoff
		is.failed, is.failErr = o.cfg.Now(), e
		return nil, e
	}
	return is, nil
}

func (o *OIDC) discover(ctx context.Context, is *issuer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.Client), is.url)
	if err != nil {
		return err
	}
	var meta struct {
		JWKSURL string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return err
	}
	if meta.JWKSURL == "" {
		return fmt.Errorf("discovery document has no jwks_uri")
	}
	var algs []string
	for _, a := range meta.Algs {
		for _, ok := range signingAlgs {
			if a == string(ok) {
				algs = append(algs, a)
			}
		}
	}
	if len(algs) == 0 {
		algs = []string{string(signingAlgs[0])} // RS256, as OIDC mandates
	}
	is.keys = &keySet{
		url: meta.JWKSURL, issuer: is.url, client: o.cfg.Client, maxAge: o.cfg.KeysMaxAge,
		refresh: rate.NewLimiter(rate.Every(o.cfg.KeyRefreshEvery), 3), now: o.cfg.Now,
	}
	is.verifier = oidc.NewVerifier(is.url, is.keys, &oidc.Config{
		SkipClientIDCheck:    true, // the audience is checked after, for a better message
		SupportedSigningAlgs: algs,
		Now:                  o.cfg.Now,
	})
	return nil
}

// unverifiedIssuer reads the iss claim of a JWT without checking anything:
// it only picks which issuer's keys to check the token with.
func unverifiedIssuer(raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw, signingAlgs)
	if err != nil {
		return "", err
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", err
	}
	if c.Issuer == "" {
		return "", fmt.Errorf("no iss claim")
	}
	return c.Issuer, nil
}

// authenticateJWT resolves a Kubernetes service-account or GitHub Actions
// token: its issuer must be named by a trust mapping, its signature,
// expiry and audience must hold, and a mapping of that issuer must match
// its claims.
func (a *Authenticator) authenticateJWT(ctx context.Context, raw string) (Identity, error) {
	if a.OIDC == nil {
		return Identity{}, errs.New(errs.Unauthenticated, "this hogplane does not accept OIDC tokens; use an API token (tok_...)")
	}
	if len(raw) > maxJWT {
		return Identity{}, errs.New(errs.Unauthenticated, "token is longer than %d bytes", maxJWT)
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return Identity{}, errs.New(errs.Unauthenticated, "credential is not a valid JWT: %v", err)
	}
	mappings, err := a.Store.TrustMappingsForIssuer(ctx, iss)
	if err != nil {
		return Identity{}, err
	}
	if len(mappings) == 0 {
		return Identity{}, errs.New(errs.Unauthenticated, "token issuer %q is not trusted by this hogland: no trust mapping names it (an admin adds one with POST /v1/trust-mappings)", iss)
	}
	kind := mappings[0].Kind
	v, err := a.OIDC.verify(ctx, iss, kind, raw)
	if err != nil {
		return Identity{}, err
	}
	switch kind {
	case KindK8sSA:
		return a.resolveK8s(ctx, mappings, v)
	case KindGitHub:
		return a.resolveGitHub(ctx, mappings, v)
	}
	return Identity{}, errs.New(errs.Internal, "issuer %s has mappings of kind %q, which is not an OIDC kind", iss, kind)
}

// k8sClaims are the service-account claims of a Kubernetes token.
type k8sClaims struct {
	Kubernetes struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

const k8sSubjectPrefix = "system:serviceaccount:"

func (a *Authenticator) resolveK8s(ctx context.Context, mappings []store.TrustMapping, v verified) (Identity, error) {
	var c k8sClaims
	if err := json.Unmarshal(v.payload, &c); err != nil {
		return Identity{}, errs.New(errs.Unauthenticated, "token claims: %v", err)
	}
	ns, sa := c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount.Name
	subNS, subSA, ok := strings.Cut(strings.TrimPrefix(v.subject, k8sSubjectPrefix), ":")
	if !strings.HasPrefix(v.subject, k8sSubjectPrefix) || !ok {
		return Identity{}, errs.New(errs.Unauthenticated, "token subject %q is not a service account (system:serviceaccount:NAMESPACE:NAME)", v.subject)
	}
	if ns == "" && sa == "" {
		ns, sa = subNS, subSA
	}
	if ns != subNS || sa != subSA {
		return Identity{}, errs.New(errs.Unauthenticated, "token subject %q disagrees with its kubernetes.io claims (%s/%s)", v.subject, ns, sa)
	}
	m, ok := bestMatch(mappings, map[string]string{"namespace": ns, "service_account": sa})
	if !ok {
		return Identity{}, refusal("service account %s/%s of issuer %s is not mapped to a principal (an admin adds a k8s_sa trust mapping for it)", ns, sa, v.issuer)
	}
	p, err := a.principalFor(ctx, m, v.subject)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Principal: p, Path: PathK8sSA, MappingID: m.ID, Subject: v.subject}, nil
}

func (a *Authenticator) resolveGitHub(ctx context.Context, mappings []store.TrustMapping, v verified) (Identity, error) {
	var claims map[string]any
	if err := json.Unmarshal(v.payload, &claims); err != nil {
		return Identity{}, errs.New(errs.Unauthenticated, "token claims: %v", err)
	}
	attrs := map[string]string{}
	for _, k := range matchKeys[KindGitHub] {
		if s, ok := claims[k].(string); ok {
			attrs[k] = s
		}
	}
	m, ok := bestMatch(mappings, attrs)
	if !ok {
		return Identity{}, refusal("GitHub Actions job %q (repository %s, ref %s) is not mapped to a principal (an admin adds a github trust mapping for it)", v.subject, attrs["repository"], attrs["ref"])
	}
	p, err := a.principalFor(ctx, m, v.subject)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Principal: p, Path: PathGitHubOIDC, MappingID: m.ID, Subject: v.subject}, nil
}
