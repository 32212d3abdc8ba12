package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
)

// ProblemTypeBase prefixes the problem "type" URI of every error kind
// hogplane sends, such as ProblemTypeBase + "not-found".
const ProblemTypeBase = "https://hogland.posthog.dev/problems/"

// Error is an answer from hogplane other than a success. Problem holds the
// RFC 9457 problem details; when the body was not problem details (a proxy
// in between, say) they are made up from the status and the body.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Problem is the problem-details body.
	Problem api.Problem
	// RequestID names the request in hogplane's logs (X-Request-Id).
	RequestID string
	// RetryAfter is the delay the server asked for (Retry-After), or 0.
	RetryAfter time.Duration
}

// Error reads "Title: detail (request req_...)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Problem.Title)
	if e.Problem.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Problem.Detail)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	return b.String()
}

// Kind is the last segment of the problem type URI, such as "not-found"
// or "busy"; for a body that was not problem details it is derived from
// the status.
func (e *Error) Kind() string {
	if k, ok := strings.CutPrefix(e.Problem.Type, ProblemTypeBase); ok && k != "" {
		return k
	}
	return kindOfStatus(e.Status)
}

// retryable reports whether the answer asks to be tried again.
func (e *Error) retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusConflict:
		return e.RetryAfter > 0
	}
	return false
}

func kindOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "permission-denied"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type"
	case http.StatusTooManyRequests:
		return "rate-limited"
	case http.StatusBadGateway:
		return "bad-gateway"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusGatewayTimeout:
		return "timeout"
	}
	return "internal"
}

func isKind(err error, kinds ...string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	k := e.Kind()
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

// IsInvalid reports whether err is a 400: the request was malformed or a
// value out of range.
func IsInvalid(err error) bool { return isKind(err, "invalid") }

// IsUnauthenticated reports whether err is a 401: no token, or a token
// that is unknown, revoked or expired.
func IsUnauthenticated(err error) bool { return isKind(err, "unauthenticated") }

// IsPermissionDenied reports whether err is a 403.
func IsPermissionDenied(err error) bool { return isKind(err, "permission-denied") }

// IsNotFound reports whether err is a 404: the thing does not exist or is
// not the caller's.
func IsNotFound(err error) bool { return isKind(err, "not-found") }

// IsConflict reports whether err is a 409 of any kind, including IsBusy.
func IsConflict(err error) bool { return isKind(err, "conflict", "busy") }

// IsBusy reports whether err is a 409 asking to retry later: the thing is
// in transition.
func IsBusy(err error) bool { return isKind(err, "busy") }

// IsTooLarge reports whether err is a 413.
func IsTooLarge(err error) bool { return isKind(err, "too-large") }

// IsRateLimited reports whether err is a 429.
func IsRateLimited(err error) bool { return isKind(err, "rate-limited") }

// IsUnavailable reports whether err is a 503.
func IsUnavailable(err error) bool { return isKind(err, "unavailable") }

// IsInternal reports whether err is a 500 (or another 5xx hogplane does
// not name).
func IsInternal(err error) bool { return isKind(err, "internal") }

// ConnError is a call that got no answer: the connection could not be
// made or broke before the response.
type ConnError struct {
	// Host is the hogplane the client calls.
	Host string
	// Op is the method and path, such as "GET /v1/me".
	Op  string
	Err error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("%s: cannot reach hogplane at %s: %v", e.Op, e.Host, e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// maxErrorBody caps how much of an error body is read.
const maxErrorBody = 64 << 10

// readError turns a non-2xx response into an *Error and closes its body.
func readError(resp *http.Response) *Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{
		Status:     resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p api.Problem
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, &p) == nil && p.Title != "" {
		e.Problem = p
	} else {
		e.Problem = api.Problem{
			Title:  http.StatusText(resp.StatusCode),
			Status: resp.StatusCode,
			Detail: summarize(body),
		}
		if e.Problem.Title == "" {
			e.Problem.Title = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = resp.StatusCode
	}
	if e.RequestID == "" {
		e.RequestID = e.Problem.RequestID
	}
	if e.Problem.RequestID == "" {
		e.Problem.RequestID = e.RequestID
	}
	return e
}

// summarize makes a one-line detail out of a body that is not problem
// details.
func summarize(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "the server sent no details"
	}
	return s
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
