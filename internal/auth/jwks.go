package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"

	"github.com/PostHog/hogland/internal/errs"
)

// signingAlgs are the JWS algorithms accepted from an issuer: asymmetric
// only, so a public key can never be used as an HMAC secret.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keySet is an issuer's JSON Web Key Set, fetched from its jwks_uri and
// cached. It implements go-oidc's KeySet.
//
// It differs from go-oidc's RemoteKeySet in what makes it fetch again: a
// token whose key id is unknown (the issuer rotated its keys) refetches,
// at most refresh.Burst() times at once and then once per refresh
// interval, so a flood of forged tokens cannot turn hogplane into a
// JWKS-fetching amplifier; a token whose key id is known but whose
// signature is wrong never refetches. Keys older than maxAge are fetched
// again on the next use, so a key the issuer retired stops working even if
// no new key id shows up.
type keySet struct {
	url     string
	issuer  string
	client  *http.Client
	maxAge  time.Duration
	refresh *rate.Limiter
	now     func() time.Time

	fetchMu sync.Mutex // one fetch at a time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetched   time.Time
	failed    time.Time // last failed fetch, to back off
	failedErr error
}

// checkedKey holds, in a context, a checked: a token whose signature
// OIDC.verify checked already, when it hands the token on to go-oidc.
type checkedKey struct{}

type checked struct {
	raw     string
	payload []byte
}

// fetchBackoff is how long a failed fetch is remembered before the next
// try, so an issuer that is down is not hammered once per request.
const fetchBackoff = 5 * time.Second

// VerifySignature checks the JWS signature of raw against the issuer's
// keys and returns the payload. Errors are *errs.Error: Unauthenticated for
// a token that does not verify, Unavailable when the keys cannot be
// fetched.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	if c, ok := ctx.Value(checkedKey{}).(checked); ok && c.raw == raw {
		return c.payload, nil
	}
	jws, err := jose.ParseSignedCompact(raw, signingAlgs)
	if err != nil {
		return nil, errs.New(errs.Unauthenticated, "token is not a JWT signed with an asymmetric algorithm: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errs.New(errs.Unauthenticated, "token must carry exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	if payload, found, ok := verifyWith(jws, keys, kid); found {
		return k.result(payload, ok, kid)
	}
	// An unknown key id: the issuer may have rotated its keys.
	if !k.refresh.Allow() {
		return nil, errs.New(errs.Unauthenticated, "token is signed with key %q, which issuer %s does not publish", kid, k.issuer)
	}
	keys, err = k.fetch(ctx, true)
	if err != nil {
		return nil, err
	}
	payload, found, ok := verifyWith(jws, keys, kid)
	if !found {
		return nil, errs.New(errs.Unauthenticated, "token is signed with key %q, which issuer %s does not publish", kid, k.issuer)
	}
	return k.result(payload, ok, kid)
}

func (k *keySet) result(payload []byte, ok bool, kid string) ([]byte, error) {
	if !ok {
		return nil, errs.New(errs.Unauthenticated, "token signature does not verify with issuer %s's key %q", k.issuer, kid)
	}
	return payload, nil
}

// verifyWith tries the keys with the token's key id (every signing key when
// it has none). found says whether any key was a candidate.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) (payload []byte, found, ok bool) {
	for i := range keys {
		key := &keys[i]
		if key.Use == "enc" || (kid != "" && key.KeyID != kid) {
			continue
		}
		found = true
		if p, err := jws.Verify(key); err == nil {
			return p, true, true
		}
	}
	return nil, found, false
}

// current returns the cached keys, fetching them when there are none or
// they are older than maxAge. A failed refresh of stale keys keeps using
// them: an issuer's outage must not lock out every workload.
func (k *keySet) current(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	keys, fetched := k.keys, k.fetched
	k.mu.Unlock()
	if len(keys) > 0 && k.now().Sub(fetched) < k.maxAge {
		return keys, nil
	}
	fresh, err := k.fetch(ctx, false)
	if err != nil {
		if len(keys) > 0 {
			return keys, nil
		}
		return nil, err
	}
	return fresh, nil
}

// fetch downloads the key set. Concurrent callers share one download;
// force fetches even when another caller just did (unknown key id).
func (k *keySet) fetch(ctx context.Context, force bool) ([]jose.JSONWebKey, error) {
	start := k.now()
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.Lock()
	if k.fetched.After(start) || (!force && len(k.keys) > 0 && k.now().Sub(k.fetched) < k.maxAge) {
		keys := k.keys
		k.mu.Unlock()
		return keys, nil // someone else fetched while we waited
	}
	if !k.failed.IsZero() && k.now().Sub(k.failed) < fetchBackoff {
		err := k.failedErr
		k.mu.Unlock()
		return nil, err
	}
	k.mu.Unlock()

	keys, err := k.download(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		e := errs.Wrap(errs.Unavailable, err, "cannot fetch the signing keys of issuer %s from %s; retry shortly", k.issuer, k.url)
		e.RetryAfter = fetchBackoff
		k.failed, k.failedErr = k.now(), e
		return nil, e
	}
	k.keys, k.fetched, k.failed, k.failedErr = keys, k.now(), time.Time{}, nil
	return keys, nil
}

// maxJWKS caps the size of a key set document.
const maxJWKS = 1 << 20

func (k *keySet) download(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	if len(body) > maxJWKS {
		return nil, fmt.Errorf("GET %s: key set larger than %d bytes", k.url, maxJWKS)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("GET %s: not a JSON Web Key Set: %w", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		// A key of a type this build does not know is skipped, not fatal:
		// issuers add new key types alongside the ones in use.
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err == nil && key.Valid() && key.IsPublic() {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("GET %s: no usable public keys", k.url)
	}
	return keys, nil
}
