package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := NewRateLimiter(RateLimits{PerSecond: 2, Burst: 4, CreatePerSecond: 0.5, CreateBurst: 1}, func() time.Time { return now })
	for i := 0; i < 4; i++ {
		if err := l.Allow("a", false); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	err := l.Allow("a", false)
	wantErr(t, err, errs.RateLimited, "2 calls per second")
	var e *errs.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > time.Second {
		t.Fatalf("Retry-After %v", e.RetryAfter)
	}
	// Another principal has its own bucket.
	if err := l.Allow("b", false); err != nil {
		t.Fatal(err)
	}
	// After the wait the call goes through.
	now = now.Add(e.RetryAfter)
	if err := l.Allow("a", false); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	// Creates: one, then refused, and the refused create takes no call token.
	now = now.Add(10 * time.Second)
	if err := l.Allow("a", true); err != nil {
		t.Fatal(err)
	}
	err = l.Allow("a", true)
	wantErr(t, err, errs.RateLimited, "creates")
	for i := 0; i < 3; i++ {
		if err := l.Allow("a", false); err != nil {
			t.Fatalf("call %d after a refused create: %v", i, err)
		}
	}
	now = now.Add(2 * time.Second)
	if err := l.Allow("a", true); err != nil {
		t.Fatalf("create after the wait: %v", err)
	}
	// Full buckets are forgotten.
	now = now.Add(time.Hour)
	_ = l.Allow("c", false)
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after a sweep, want 1", n)
	}
	var none *RateLimiter
	if err := none.Allow("a", true); err != nil {
		t.Error(err)
	}
	unlimited := NewRateLimiter(RateLimits{}, nil)
	for i := 0; i < 1000; i++ {
		if err := unlimited.Allow("a", true); err != nil {
			t.Fatal(err)
		}
	}
}
