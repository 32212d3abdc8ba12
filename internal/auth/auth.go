// Package auth turns a request's credential into a principal, by one of
// four paths: API tokens (tok_…, random secrets stored only as their
// SHA-256), Kubernetes service-account JWTs and GitHub Actions OIDC JWTs
// (verified against their issuer's keys and resolved by trust mappings),
// and Tailscale identity headers set by a trusted ingress proxy.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// TokenPrefix starts every API token.
const TokenPrefix = "tok_"

// Paths name how a call was authenticated.
const (
	PathAPIToken   = api.AuthPathAPIToken
	PathK8sSA      = api.AuthPathK8sSA
	PathGitHubOIDC = api.AuthPathGitHubOIDC
	PathTailscale  = api.AuthPathTailscale
)

// Identity is the authenticated caller of one request.
type Identity struct {
	Principal store.Principal
	Path      string
	// TokenID is the API token used (api_token path).
	TokenID string
	// MappingID is the trust mapping that admitted the caller, and Subject
	// the external identity it matched (the JWT's sub, or the tailnet
	// login), on the other paths.
	MappingID string
	Subject   string
	// DisplayName is the tailnet user's name, when the ingress sent one.
	DisplayName string
}

// NewToken returns a fresh API token secret and its hash.
func NewToken() (secret, hash string) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	secret = TokenPrefix + hex.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken is the stored form of a token secret.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// RandomID returns prefix followed by n random hex digits.
func RandomID(prefix string, n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)[:n]
}

// Authenticator resolves credentials against the store.
type Authenticator struct {
	Store *store.Store
	Now   func() time.Time
	// OIDC verifies Kubernetes and GitHub JWTs; nil refuses every JWT.
	OIDC *OIDC
	// Tailscale says which peers may vouch for a tailnet user; nil trusts
	// none.
	Tailscale *Tailscale

	tokens tokenCache
}

// Credential extracts the bearer credential of r: the Authorization header,
// or, when allowQuery is set, the token query parameter.
func Credential(r *http.Request, allowQuery bool) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(cred)
		}
		return ""
	}
	if allowQuery {
		return r.URL.Query().Get("token")
	}
	return ""
}

// Authenticate resolves a bearer credential to an identity: an API token,
// or a Kubernetes or GitHub OIDC token (a JWT). A missing, unknown,
// revoked, expired, badly signed or wrong-audience credential, or a JWT
// from an issuer no trust mapping names, is an errs.Unauthenticated; a
// valid JWT no mapping admits is an errs.PermissionDenied; an issuer that
// cannot be reached is an errs.Unavailable with RetryAfter.
func (a *Authenticator) Authenticate(ctx context.Context, cred string) (Identity, error) {
	if cred == "" {
		return Identity{}, errs.New(errs.Unauthenticated, "no credential: send Authorization: Bearer <token> (set HOG_TOKEN for the CLI and SDK)")
	}
	if looksLikeJWT(cred) {
		return a.authenticateJWT(ctx, cred)
	}
	if !strings.HasPrefix(cred, TokenPrefix) {
		return Identity{}, errs.New(errs.Unauthenticated, "credential is neither a hogland API token (tok_...) nor a Kubernetes or GitHub OIDC token (JWT)")
	}
	hash := HashToken(cred)
	if id, ok := a.tokens.get(hash, a.now()); ok {
		return id, nil
	}
	tok, p, err := a.Store.TokenByHash(ctx, hash)
	if errs.Is(err, errs.NotFound) {
		return Identity{}, errs.New(errs.Unauthenticated, "API token is not valid")
	}
	if err != nil {
		return Identity{}, err
	}
	now := a.now()
	if tok.RevokedAt != nil {
		return Identity{}, errs.New(errs.Unauthenticated, "API token %s was revoked", tok.ID)
	}
	if tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt) {
		return Identity{}, errs.New(errs.Unauthenticated, "API token %s expired at %s", tok.ID, tok.ExpiresAt.Format(time.RFC3339))
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		// Last-used is advisory: a failure to record it never fails the call.
		_ = a.Store.TouchToken(ctx, tok.ID, now)
	}
	id := Identity{Principal: p, Path: PathAPIToken, TokenID: tok.ID}
	a.tokens.put(hash, id, tok.ExpiresAt, now)
	return id, nil
}

// Forget drops every cached token verification, so a token revoked (or a
// principal changed) through this process is refused from the next call.
func (a *Authenticator) Forget() { a.tokens.clear() }

// AuthenticateRequest resolves the caller of r: its bearer credential (or,
// when allowQuery is set, its token query parameter), or else the
// Tailscale identity headers when r comes from a trusted proxy.
func (a *Authenticator) AuthenticateRequest(r *http.Request, allowQuery bool) (Identity, error) {
	cred := Credential(r, allowQuery)
	if cred == "" && a.Tailscale.Trusted(r) {
		if login := r.Header.Get(HeaderTailscaleLogin); login != "" {
			return a.authenticateTailscale(r.Context(), login, r.Header.Get(HeaderTailscaleName))
		}
	}
	return a.Authenticate(r.Context(), cred)
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity ctx carries.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
