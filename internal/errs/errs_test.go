package errs

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestKindsRoundTrip(t *testing.T) {
	for k := range kindInfo {
		if got := KindFromType(k.Type()); got != k {
			t.Errorf("KindFromType(%s) = %v, want %v", k.Type(), got, k)
		}
		if k == Busy {
			continue // shares 409 with Conflict; the type URI tells them apart
		}
		if got := KindFromStatus(k.Status()); got != k {
			t.Errorf("KindFromStatus(%d) = %v, want %v", k.Status(), got, k)
		}
	}
	if KindFromType("https://example.com/other") != 0 {
		t.Error("an unknown type URI maps to a kind")
	}
	if KindFromStatus(418) != Internal {
		t.Error("an unknown status should map to Internal")
	}
}

func TestWrapAndKindOf(t *testing.T) {
	base := errors.New("disk on fire")
	e := Wrap(NotFound, base, "box %s not found", "box-1")
	wrapped := fmt.Errorf("get: %w", e)
	if KindOf(wrapped) != NotFound || !Is(wrapped, NotFound) || Is(wrapped, Conflict) {
		t.Errorf("kind of wrapped error: %v", KindOf(wrapped))
	}
	if !errors.Is(wrapped, base) {
		t.Error("cause lost")
	}
	if KindOf(base) != Internal || Is(nil, Internal) {
		t.Error("plain errors are Internal; nil is nothing")
	}
	b := BusyFor(2*time.Second, "box %s is pausing", "box-1")
	if b.Kind != Busy || b.RetryAfter != 2*time.Second || b.Kind.Status() != 409 {
		t.Errorf("busy: %+v", b)
	}
	if u := b.WithKind(Unavailable); u.Kind != Unavailable || u.RetryAfter != b.RetryAfter || b.Kind != Busy {
		t.Errorf("WithKind changed the original or lost Retry-After: %+v %+v", u, b)
	}
}
