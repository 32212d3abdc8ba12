package auth

import (
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/store"
)

func TestTokenCache(t *testing.T) {
	var c tokenCache
	now := time.Now()
	id := Identity{Principal: store.Principal{ID: "prn-1"}, Path: PathAPIToken, TokenID: "tid-1"}
	if _, ok := c.get("h", now); ok {
		t.Fatal("empty cache answered")
	}
	exp := now.Add(time.Second)
	c.put("h", id, &exp, now)
	if got, ok := c.get("h", now); !ok || got.TokenID != "tid-1" {
		t.Fatalf("cached token not found: %+v %v", got, ok)
	}
	if _, ok := c.get("h", exp); ok {
		t.Error("an expired token is still vouched for")
	}
	c.put("h", id, nil, now)
	if _, ok := c.get("h", now.Add(tokenCacheTTL)); ok {
		t.Error("the cache vouches past its TTL")
	}
	c.clear()
	if _, ok := c.get("h", now); ok {
		t.Error("clear left an entry")
	}
}
