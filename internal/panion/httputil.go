package panion

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
)

// maxJSONBody caps JSON request bodies; a batch exec's stdin travels in one.
const maxJSONBody = 64 << 20

// methods routes one path by HTTP method and answers 405 with an Allow
// header for any other method. HEAD is served by GET.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := m[r.Method]
	if h == nil && r.Method == http.MethodHead {
		h = m[http.MethodGet]
	}
	if h != nil {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, http.StatusMethodNotAllowed, errs.Invalid, "Method not allowed",
		"method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or "))
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// writeError answers err as problem details. Errors that are not an
// *errs.Error are internal: they are logged and their text is not shown.
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if !errors.As(err, &e) {
		e = &errs.Error{Kind: errs.Internal, Detail: "internal error in the box agent", Err: err}
	}
	if e.Kind == errs.Internal {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, r, e.Kind.Status(), e.Kind, "", e.Detail)
}

// writeProblem answers an RFC 9457 problem of kind k. An empty title is
// the kind's title.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, k errs.Kind, title, detail string) {
	if title == "" {
		title = k.Title()
	}
	p := api.Problem{Type: k.Type(), Title: title, Status: status, Detail: detail, Instance: r.URL.Path}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(p); err != nil {
		slog.Debug("write problem", "err", err)
	}
}

// notFound answers every path the agent does not serve.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, errs.NotFound, "", "no such endpoint: "+r.URL.Path)
}

// decodeJSON reads exactly one JSON object from the body into v, refusing
// unknown fields, trailing data and bodies over maxJSONBody.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errs.New(errs.Invalid, "unexpected data after the JSON object in the request body")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errs.New(errs.TooLarge, "request body is over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return errs.New(errs.Invalid, "request body is empty; send a JSON object")
	}
	return errs.New(errs.Invalid, "bad JSON in request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}
