package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/PostHog/hogland/internal/errs"
)

// RateLimits are token-bucket limits applied to each principal: one bucket
// for every call, and one more for calls that create something. A rate of
// zero means no limit.
type RateLimits struct {
	PerSecond       float64
	Burst           int
	CreatePerSecond float64
	CreateBurst     int
}

// DefaultRateLimits are the limits of a plane started with no settings.
func DefaultRateLimits() RateLimits {
	return RateLimits{PerSecond: 50, Burst: 100, CreatePerSecond: 5, CreateBurst: 20}
}

// RateLimiter keeps a principal's buckets. Its methods are safe for
// concurrent use; a nil RateLimiter limits nothing.
type RateLimiter struct {
	cfg RateLimits
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*buckets
	lastSweep time.Time
}

type buckets struct {
	all, create *rate.Limiter
}

// NewRateLimiter makes a limiter. A burst below 1 is taken as 1.
func NewRateLimiter(cfg RateLimits, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	cfg.Burst, cfg.CreateBurst = max(cfg.Burst, 1), max(cfg.CreateBurst, 1)
	return &RateLimiter{cfg: cfg, now: now, buckets: map[string]*buckets{}}
}

// Limits returns the configured limits.
func (l *RateLimiter) Limits() RateLimits {
	if l == nil {
		return RateLimits{}
	}
	return l.cfg
}

// Allow takes a token from the principal's buckets (both, for a create),
// or returns an errs.RateLimited that says when to retry. A refused call
// takes nothing.
func (l *RateLimiter) Allow(principal string, create bool) error {
	if l == nil {
		return nil
	}
	now := l.now()
	b := l.get(principal, now)
	var taken []*rate.Reservation
	for _, c := range []struct {
		lim  *rate.Limiter
		what string
		rate float64
		use  bool
	}{{b.all, "calls", l.cfg.PerSecond, true}, {b.create, "creates", l.cfg.CreatePerSecond, create}} {
		if !c.use || c.lim == nil {
			continue
		}
		r := c.lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			e := errs.New(errs.RateLimited, "rate limit exceeded: at most %g %s per second (burst %d) per principal; retry after %s",
				c.rate, c.what, c.lim.Burst(), d.Round(time.Millisecond))
			e.RetryAfter = d
			return e
		}
		taken = append(taken, r)
	}
	return nil
}

func (l *RateLimiter) get(principal string, now time.Time) *buckets {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[principal]
	if b == nil {
		b = &buckets{}
		if l.cfg.PerSecond > 0 {
			b.all = rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)
		}
		if l.cfg.CreatePerSecond > 0 {
			b.create = rate.NewLimiter(rate.Limit(l.cfg.CreatePerSecond), l.cfg.CreateBurst)
		}
		l.buckets[principal] = b
	}
	return b
}

// sweep forgets buckets that are full again: a new one would be the same.
func (l *RateLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for p, b := range l.buckets {
		if full(b.all, now) && full(b.create, now) {
			delete(l.buckets, p)
		}
	}
}

func full(lim *rate.Limiter, now time.Time) bool {
	return lim == nil || lim.TokensAt(now) >= float64(lim.Burst())
}
