package auth

import (
	"sync"
	"time"
)

// tokenCacheTTL is how long a verified API token is trusted without a
// database read. Revocations through this process clear the cache at once
// (Authenticator.Forget); expiry is checked on every use.
const tokenCacheTTL = 5 * time.Second

// tokenCacheMax bounds the cache; past it, it starts over.
const tokenCacheMax = 10000

// tokenCache remembers recently verified API tokens by hash, so a busy
// client (a web app behind the proxy) costs no database read per request.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	id      Identity
	expires *time.Time // the token's own expiry
	until   time.Time  // when the cache stops vouching for it
}

func (c *tokenCache) get(hash string, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.until) || (e.expires != nil && !now.Before(*e.expires)) {
		return Identity{}, false
	}
	return e.id, true
}

func (c *tokenCache) put(hash string, id Identity, expires *time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = map[string]cachedToken{}
	}
	c.m[hash] = cachedToken{id: id, expires: expires, until: now.Add(tokenCacheTTL)}
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
