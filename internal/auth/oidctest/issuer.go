// Package oidctest is a real OIDC issuer on loopback for tests: its own
// RSA signing keys, a discovery document and a JWKS endpoint, and helpers
// that mint Kubernetes service-account and GitHub Actions shaped tokens.
// It can rotate its keys, sign with a key it does not publish, and count
// how often it is asked for its documents.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is a signing key and its key id.
type Key struct {
	ID   string
	priv *rsa.PrivateKey
}

// NewKey makes a 2048-bit RSA key with id kid.
func NewKey(t testing.TB, kid string) *Key {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: kid, priv: priv}
}

// WithID returns the same key under another key id.
func (k *Key) WithID(id string) *Key { return &Key{ID: id, priv: k.priv} }

// Issuer is a running OIDC issuer.
type Issuer struct {
	URL string

	// Discoveries and KeyFetches count requests for the discovery document
	// and the key set.
	Discoveries atomic.Int64
	KeyFetches  atomic.Int64

	srv *httptest.Server

	mu        sync.Mutex
	signing   *Key
	published []*Key
	rotations int
}

// New starts an issuer on 127.0.0.1; it stops at the end of the test.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{}
	i.signing = NewKey(t, "key-1")
	i.published = []*Key{i.signing}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.Discoveries.Add(1)
		writeJSON(w, map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + "/openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		i.KeyFetches.Add(1)
		i.mu.Lock()
		var set jose.JSONWebKeySet
		for _, k := range i.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"})
		}
		i.mu.Unlock()
		writeJSON(w, set)
	})
	i.srv = httptest.NewServer(mux)
	i.URL = i.srv.URL
	t.Cleanup(i.srv.Close)
	return i
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Rotate makes a new signing key and stops publishing the old one, as an
// issuer does once tokens signed with the old key have expired.
func (i *Issuer) Rotate(t testing.TB) {
	t.Helper()
	i.mu.Lock()
	i.rotations++
	kid := fmt.Sprintf("key-%d", i.rotations+1)
	i.mu.Unlock()
	k := NewKey(t, kid)
	i.mu.Lock()
	i.signing = k
	i.published = []*Key{k}
	i.mu.Unlock()
}

// SigningKey is the key Token signs with now.
func (i *Issuer) SigningKey() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signing
}

// Token signs claims with the current key. iss, iat and exp default to
// this issuer, now and an hour from now.
func (i *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return i.SignWith(t, i.SigningKey(), claims)
}

// SignWith signs claims with k (which the issuer may not publish).
func (i *Issuer) SignWith(t testing.TB, k *Key, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": i.URL, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for key, v := range claims {
		c[key] = v
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// K8sClaims are the claims of a projected service-account token of
// namespace/name with audience aud.
func K8sClaims(aud, namespace, name string) map[string]any {
	return map[string]any{
		"aud": []string{aud},
		"sub": "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"serviceaccount": map[string]any{"name": name, "uid": "0d5c4a44-6f43-4a5b-9b0e-6a4a8f0e0c11"},
			"pod":            map[string]any{"name": name + "-7d9f8", "uid": "5b1e2c6e-8a0f-4b8e-bb64-3f0a4d1c9e21"},
		},
	}
}

// GitHubClaims are the claims of a GitHub Actions job token for repo
// (OWNER/NAME) at ref, with audience aud; extra claims (environment,
// workflow, ...) are added as given.
func GitHubClaims(aud, repo, ref string, extra map[string]string) map[string]any {
	owner := repo
	for j := range repo {
		if repo[j] == '/' {
			owner = repo[:j]
			break
		}
	}
	c := map[string]any{
		"aud": aud, "sub": "repo:" + repo + ":ref:" + ref,
		"repository": repo, "repository_owner": owner, "ref": ref, "ref_type": "branch",
		"workflow": "CI", "event_name": "push", "actor": "octocat",
		"job_workflow_ref": repo + "/.github/workflows/ci.yml@" + ref,
	}
	for k, v := range extra {
		c[k] = v
	}
	if env, ok := extra["environment"]; ok {
		c["sub"] = "repo:" + repo + ":environment:" + env
	}
	return c
}
