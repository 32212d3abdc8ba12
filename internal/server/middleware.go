package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
)

type requestIDKey struct{}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID returns the request's id: the caller's X-Request-Id when it is
// sane, otherwise a fresh one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); requestIDRE.MatchString(id) {
		return id
	}
	return auth.RandomID("req_", 20)
}

// AccessLogMessage is the message of the one info line logged per request
// (the access log), which a log sink may batch.
const AccessLogMessage = "request"

// statusClientClosed is the status the logs give a request whose caller
// went away before any answer (nginx's 499); it is never sent.
const statusClientClosed = 499

// statusWriter remembers the status for the access log and lets handlers
// stream (Flush) and take over the connection (Unwrap for Hijack).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds the request id, authentication, panic recovery, error
// rendering and the access log around a route's handler.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		rw.Header().Set("X-Request-Id", id)
		w := &statusWriter{ResponseWriter: rw}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		r = r.WithContext(ctx)
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					err = errs.New(errs.Internal, "internal error")
					s.log.Error("panic in handler", "request_id", id, "panic", fmt.Sprint(p))
				}
			}()
			if !rt.Public {
				var ident auth.Identity
				if ident, err = s.authenticate(r, rt.QueryToken, rt.Create); err != nil {
					return
				}
				r = r.WithContext(auth.WithIdentity(ctx, ident))
				if err = s.resolveBoxName(r, rt, ident.Principal.ID); err != nil {
					return
				}
			}
			err = rt.handler(w, r)
		}()
		if err != nil && r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// The caller went away: there is no one to answer, and it is
			// no failure of the plane's, so neither an error log nor an
			// error metric. The logs show 499 when nothing was sent.
			err = nil
			if w.status == 0 {
				w.status = statusClientClosed
			}
		}
		if err != nil {
			s.writeError(w, r, id, err)
		}
		s.record(r, rt, w, id) // the audit log (audit.go)
		if m := s.cfg.Metrics; m != nil {
			m.Requests.WithLabelValues(rt.Pattern, strconv.Itoa(w.status)).Inc()
			if err != nil {
				m.Errors.WithLabelValues(errs.KindOf(err).String()).Inc()
			}
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, AccessLogMessage, slog.String("request_id", id), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", w.status), slog.Int64("bytes", w.bytes),
			slog.Int64("ms", time.Since(start).Milliseconds()))
	})
}

// writeError renders err as problem details, unless the response has
// already started (a broken stream), in which case it is only logged.
func (s *Server) writeError(w *statusWriter, r *http.Request, id string, err error) {
	var e *errs.Error
	if !errors.As(err, &e) {
		e = errs.Wrap(errs.Internal, err, "internal error")
	}
	switch e.Kind {
	case errs.Internal:
		s.log.Error("request failed", "request_id", id, "err", err)
	case errs.BadGateway: // mostly a box's own server not listening: the box's matter, not the plane's
		s.log.Warn("request failed", "request_id", id, "err", err)
	}
	if w.status != 0 {
		s.log.Warn("error after response started", "request_id", id, "err", err)
		return
	}
	p := api.Problem{
		Type: e.Kind.Type(), Title: e.Kind.Title(), Status: e.Kind.Status(),
		Detail: e.Detail, Instance: r.URL.Path, RequestID: id, Extra: e.Extra,
	}
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(p); err != nil {
		s.log.Warn("write problem", "request_id", id, "err", err)
	}
}

// authenticate resolves the caller of r and takes a call (and, for a
// create, a create) from its rate limits, which are per principal.
func (s *Server) authenticate(r *http.Request, allowQuery, create bool) (auth.Identity, error) {
	ident, err := s.cfg.Auth.AuthenticateRequest(r, allowQuery)
	if err != nil {
		return auth.Identity{}, err
	}
	return ident, s.cfg.Limiter.Allow(ident.Principal.ID, create)
}

// portParam reads the {port} path value.
func portParam(r *http.Request) (int, error) {
	v := r.PathValue("port")
	port, err := strconv.Atoi(v)
	if err != nil || port < 1 || port > 65535 {
		return 0, errs.New(errs.Invalid, "port must be 1-65535, got %q", v)
	}
	return port, nil
}

// boolParam reads the query parameter name as true or false; def when it
// is absent.
func boolParam(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.New(errs.Invalid, "%s must be true or false, got %q", name, v)
	}
	return b, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// maxJSONBody caps JSON request bodies.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON body into v, rejecting unknown fields, trailing
// data, bodies over the cap and other media types.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	// curl -d sends application/x-www-form-urlencoded unless told
	// otherwise: accept it, the body must still be JSON.
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") &&
		!strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return errs.New(errs.Unsupported, "Content-Type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errs.New(errs.Invalid, "request body has data after the JSON value")
	}
	// Every body is an object: null, a list or a string would otherwise
	// decode as "no fields set" or fail with a message about Go types.
	if raw[0] != '{' {
		return errs.New(errs.Invalid, "request body must be a JSON object, got %s", jsonKind(raw[0]))
	}
	obj := json.NewDecoder(bytes.NewReader(raw))
	obj.DisallowUnknownFields()
	if err := obj.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return errs.New(errs.TooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return errs.New(errs.Invalid, "request body is empty; send a JSON object")
	case errors.As(err, &syn):
		return errs.New(errs.Invalid, "request body is not valid JSON (at byte %d): %v", syn.Offset, err)
	case errors.As(err, &typ):
		return errs.New(errs.Invalid, "field %q must be %s, got a JSON %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errs.New(errs.Invalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return errs.New(errs.Invalid, "request body is not valid JSON: %v", err)
}

func notFoundRoute(r *http.Request) error {
	return errs.New(errs.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
}

func methodNotAllowed(r *http.Request, allow string) error {
	return &errs.Error{Kind: errs.MethodNotAllowed, Detail: fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)}
}

func identity(r *http.Request) auth.Identity {
	id, _ := auth.FromContext(r.Context())
	return id
}

// logger returns the server's logger tagged with the request id.
func (s *Server) logger(r *http.Request) *slog.Logger {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return s.log.With("request_id", id)
}
