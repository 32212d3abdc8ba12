// Package auth turns a request's credential into a principal. API tokens
// (tok_…) are random secrets stored only as their SHA-256.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// TokenPrefix starts every API token.
const TokenPrefix = "tok_"

// Path names how a call was authenticated.
const PathAPIToken = "api_token"

// Identity is the authenticated caller of one request.
type Identity struct {
	Principal store.Principal
	Path      string
	TokenID   string
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

// Authenticate resolves a credential to an identity. A missing, unknown,
// revoked or expired credential is an errs.Unauthenticated.
func (a *Authenticator) Authenticate(ctx context.Context, cred string) (Identity, error) {
	if cred == "" {
		return Identity{}, errs.New(errs.Unauthenticated, "no credential: send Authorization: Bearer <token> (set HOG_TOKEN for the CLI and SDK)")
	}
	if !strings.HasPrefix(cred, TokenPrefix) {
		return Identity{}, errs.New(errs.Unauthenticated, "credential is not a hogland API token (tok_...)")
	}
	tok, p, err := a.Store.TokenByHash(ctx, HashToken(cred))
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
	return Identity{Principal: p, Path: PathAPIToken, TokenID: tok.ID}, nil
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
