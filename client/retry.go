package client

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	// baseBackoff is the wait before the first retry without Retry-After.
	baseBackoff = 250 * time.Millisecond
	// maxBackoff caps the wait between two retries without Retry-After.
	maxBackoff = 8 * time.Second
	// maxRetryAfter is the longest Retry-After the client waits out; an
	// answer asking for more is returned to the caller.
	maxRetryAfter = 2 * time.Minute
)

// backoff is the wait before retry number attempt+1: exponential, capped,
// with "equal jitter" (between half and all of the step) so that clients
// that failed together do not retry together.
func backoff(attempt int) time.Duration {
	d := baseBackoff << min(attempt, 10)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// jitter adds up to a tenth of d (at most a second) to a server-given
// wait.
func jitter(d time.Duration) time.Duration {
	j := min(d/10, time.Second)
	if j <= 0 {
		return 0
	}
	return rand.N(j + 1)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
