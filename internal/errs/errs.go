// Package errs holds the small set of error kinds hogland uses everywhere,
// and their mapping to HTTP statuses and RFC 9457 problem details in both
// directions: the server turns a kind into a status, and a client turns a
// problem-details body back into the same kind.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind classifies an error. The zero value is not a valid kind.
type Kind int

const (
	// Invalid: the request is malformed or a value is out of range (400).
	Invalid Kind = iota + 1
	// Unauthenticated: no credential, or one that is not valid (401).
	Unauthenticated
	// PermissionDenied: the caller is known but may not do this (403).
	PermissionDenied
	// NotFound: the thing does not exist or is not the caller's (404).
	NotFound
	// Conflict: the request clashes with the current state (409).
	Conflict
	// Busy: the thing is in transition; try again after RetryAfter (409).
	Busy
	// MethodNotAllowed: the path exists but not with this method (405).
	MethodNotAllowed
	// TooLarge: the body is over a size limit (413).
	TooLarge
	// Unsupported: the media type of the body is not accepted (415).
	Unsupported
	// RateLimited: too many requests; try again after RetryAfter (429).
	RateLimited
	// Internal: a bug or an unexpected failure (500).
	Internal
	// BadGateway: something inside a box did not answer (502).
	BadGateway
	// Unavailable: the server or a dependency cannot serve now (503).
	Unavailable
	// Timeout: an upstream did not answer in time (504).
	Timeout
)

var kindInfo = map[Kind]struct {
	status int
	slug   string
	title  string
}{
	Invalid:          {http.StatusBadRequest, "invalid", "Invalid request"},
	Unauthenticated:  {http.StatusUnauthorized, "unauthenticated", "Authentication required"},
	PermissionDenied: {http.StatusForbidden, "permission-denied", "Permission denied"},
	NotFound:         {http.StatusNotFound, "not-found", "Not found"},
	Conflict:         {http.StatusConflict, "conflict", "Conflict"},
	Busy:             {http.StatusConflict, "busy", "Resource busy"},
	MethodNotAllowed: {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
	TooLarge:         {http.StatusRequestEntityTooLarge, "too-large", "Request too large"},
	Unsupported:      {http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	RateLimited:      {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	Internal:         {http.StatusInternalServerError, "internal", "Internal error"},
	BadGateway:       {http.StatusBadGateway, "bad-gateway", "Bad gateway"},
	Unavailable:      {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	Timeout:          {http.StatusGatewayTimeout, "timeout", "Gateway timeout"},
}

// TypeBase prefixes the problem "type" URI of every kind.
const TypeBase = "https://hogland.posthog.dev/problems/"

// Status is the HTTP status of k.
func (k Kind) Status() int {
	if i, ok := kindInfo[k]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Title is the short human summary of k, used as the problem title.
func (k Kind) Title() string {
	if i, ok := kindInfo[k]; ok {
		return i.title
	}
	return "Internal error"
}

// Type is the problem-details type URI of k.
func (k Kind) Type() string {
	if i, ok := kindInfo[k]; ok {
		return TypeBase + i.slug
	}
	return TypeBase + "internal"
}

func (k Kind) String() string {
	if i, ok := kindInfo[k]; ok {
		return i.slug
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// KindFromType maps a problem type URI back to its kind (0 if unknown).
func KindFromType(typ string) Kind {
	for k, i := range kindInfo {
		if TypeBase+i.slug == typ {
			return k
		}
	}
	return 0
}

// KindFromStatus maps an HTTP status to the most likely kind.
func KindFromStatus(status int) Kind {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return Invalid
	case http.StatusUnauthorized:
		return Unauthenticated
	case http.StatusForbidden:
		return PermissionDenied
	case http.StatusNotFound:
		return NotFound
	case http.StatusConflict:
		return Conflict
	case http.StatusMethodNotAllowed:
		return MethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return TooLarge
	case http.StatusUnsupportedMediaType:
		return Unsupported
	case http.StatusTooManyRequests:
		return RateLimited
	case http.StatusBadGateway:
		return BadGateway
	case http.StatusServiceUnavailable:
		return Unavailable
	case http.StatusGatewayTimeout:
		return Timeout
	}
	return Internal
}

// Error is an error of a known kind. Detail is shown to the caller, so it
// must say what went wrong and, where the caller can fix it, how.
type Error struct {
	Kind   Kind
	Detail string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Extra fields merged into the problem body (for example "quota").
	Extra map[string]any
	// Err is the underlying cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error of kind k with a formatted detail.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap makes an error of kind k whose cause is err.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...), Err: err}
}

// BusyFor makes a Busy error that asks the caller to retry after d.
func BusyFor(d time.Duration, format string, args ...any) *Error {
	return &Error{Kind: Busy, Detail: fmt.Sprintf(format, args...), RetryAfter: d}
}

// WithKind returns a copy of e with kind k, keeping its detail and Retry-After.
func (e *Error) WithKind(k Kind) *Error {
	c := *e
	c.Kind = k
	return &c
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool {
	if err == nil {
		return false
	}
	return KindOf(err) == k
}
