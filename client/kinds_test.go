package client

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// TestKindsMatchServer keeps the client's reading of errors in step with
// the kinds hogplane sends: each problem type maps back to its kind, and
// a bare status to the kind the server would pick.
func TestKindsMatchServer(t *testing.T) {
	if ProblemTypeBase != errs.TypeBase {
		t.Fatalf("ProblemTypeBase %q, server's %q", ProblemTypeBase, errs.TypeBase)
	}
	n := 0
	for k := errs.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		n++
		e := &Error{Status: k.Status(), Problem: api.Problem{Type: k.Type(), Title: k.Title(), Status: k.Status()}}
		if e.Kind() != k.String() {
			t.Errorf("%v: Kind() = %q", k, e.Kind())
		}
		if k == errs.Busy {
			continue // 409 alone means conflict
		}
		if got := kindOfStatus(k.Status()); got != k.String() && errs.KindFromStatus(k.Status()) == k {
			t.Errorf("status %d: %q, server's kind %v", k.Status(), got, k)
		}
	}
	if n < 10 {
		t.Fatalf("only %d kinds found", n)
	}
	for _, st := range []int{http.StatusBadRequest, http.StatusTeapot, http.StatusInternalServerError, http.StatusGatewayTimeout} {
		if got, want := kindOfStatus(st), errs.KindFromStatus(st).String(); got != want {
			t.Errorf("status %d: %q, want %q", st, got, want)
		}
	}
	checks := map[errs.Kind]func(error) bool{
		errs.Invalid: IsInvalid, errs.Unauthenticated: IsUnauthenticated, errs.PermissionDenied: IsPermissionDenied,
		errs.NotFound: IsNotFound, errs.Conflict: IsConflict, errs.Busy: IsBusy, errs.TooLarge: IsTooLarge,
		errs.RateLimited: IsRateLimited, errs.Unavailable: IsUnavailable, errs.Internal: IsInternal,
	}
	for k, is := range checks {
		if !is(&Error{Status: k.Status(), Problem: api.Problem{Type: k.Type()}}) {
			t.Errorf("predicate for %v is false", k)
		}
	}
}
