package server

import (
	"errors"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// proxyMethods are the methods the proxy route answers (any a box's
// server may want).
var proxyMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// proxy forwards a request to 127.0.0.1:{port} inside the box, through
// the agent's relay. HTTP, chunked bodies, SSE and WebSocket upgrades pass
// through unbuffered. The caller's credential (bearer header or ?token=)
// is checked and removed before the request reaches the box.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	id, portStr := r.PathValue("id"), r.PathValue("port")
	port, err := portParam(r)
	if err != nil {
		return err
	}
	owner, used, err := s.authorizeProxy(r, id, port)
	if err != nil {
		return err
	}
	return s.forward(w, r, forwardTo{owner: owner, box: id, port: port, prefix: "/v1/hogboxes/" + id + "/proxy/" + portStr, used: used, start: start})
}

// forwardTo is where forward sends a request: a port of a box, reached
// under prefix, for owner, who authenticated with the credential used.
type forwardTo struct {
	owner, box   string
	port         int
	prefix, used string
	start        time.Time
}

// forward proxies r to a port of a box the caller may reach.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, to forwardTo) error {
	start, id, port, portStr, prefix, used := to.start, to.box, to.port, strconv.Itoa(to.port), to.prefix, to.used
	rt, release, err := s.cfg.Boxes.Proxy(r.Context(), to.owner, id)
	if err != nil {
		return err
	}
	defer release()
	var proxyErr error
	rp := &httputil.ReverseProxy{
		Transport: rt,
		// The default flush interval (0) still flushes every write of a
		// streamed response (SSE, or no Content-Length); a response of
		// known length goes out in as few writes as possible.
		BufferPool: proxyBuffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "127.0.0.1:" + portStr
			pr.Out.URL.Path = "/" + pr.In.PathValue("path")
			pr.Out.URL.RawPath = ""
			if esc := strings.TrimPrefix(pr.In.URL.EscapedPath(), prefix); strings.HasPrefix(esc, "/") {
				pr.Out.URL.RawPath = esc
			}
			pr.Out.URL.RawQuery = stripCredential(pr.In.URL.RawQuery, used)
			if c := bearer(pr.In); isHoglandCredential(c) || (used != "" && c == used) {
				pr.Out.Header.Del("Authorization")
			}
			auth.StripHeaders(pr.Out.Header) // tailnet identity headers never reach a box
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Prefix", prefix)
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: func(*http.Response) error {
			if m := s.cfg.Metrics; m != nil {
				m.ProxySeconds.Observe(time.Since(start).Seconds())
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			proxyErr = err
		},
	}
	rp.ServeHTTP(w, r)
	if proxyErr == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(proxyErr, &e) {
		return e
	}
	return errs.Wrap(errs.BadGateway, proxyErr, "port %d in box %s did not answer", port, id)
}

// authorizeProxy decides whether the caller may reach port of box id and
// returns the box's owner and the credential it consumed (which is then
// kept from the box). Public boxes need no credential; others take the
// owner's credential on any auth path (API token, OIDC token, tailnet
// identity) or a preview token for this box and port. A box the caller
// may not see is a 404, as everywhere.
func (s *Server) authorizeProxy(r *http.Request, id string, port int) (owner, used string, err error) {
	acc, err := s.cfg.Boxes.ProxyAccess(r.Context(), id)
	if err != nil {
		return "", "", err
	}
	if acc.AccessType == api.AccessPublic {
		return acc.Owner, "", nil
	}
	cred := auth.Credential(r, true)
	if strings.HasPrefix(cred, box.PreviewTokenPrefix) {
		return acc.Owner, cred, s.cfg.Boxes.CheckPreviewToken(r.Context(), cred, id, port)
	}
	ident, err := s.authenticate(r, true, false)
	if err != nil {
		return "", "", err
	}
	if ident.Principal.ID != acc.Owner {
		return "", "", errs.New(errs.NotFound, "box %s not found", id)
	}
	return acc.Owner, cred, nil
}

func bearer(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

func isHoglandCredential(c string) bool {
	return strings.HasPrefix(c, auth.TokenPrefix) || strings.HasPrefix(c, box.PreviewTokenPrefix)
}

// stripCredential removes hogland credentials passed as ?token= (and the
// credential used, such as an OIDC token) from a raw query, leaving every
// other parameter exactly as the client sent it.
func stripCredential(raw, used string) string {
	if !strings.Contains(raw, "token=") {
		return raw
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		if k == "token" && (isHoglandCredential(v) || (used != "" && v == used)) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

func (s *Server) createPreviewToken(w http.ResponseWriter, r *http.Request) error {
	var req api.CreatePreviewTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ttl := time.Hour
	if req.ExpiresInSeconds != 0 {
		ttl = time.Duration(req.ExpiresInSeconds) * time.Second
	}
	id := r.PathValue("id")
	t, err := s.cfg.Boxes.MintPreviewToken(r.Context(), identity(r).Principal.ID, id, req.Port, ttl)
	if err != nil {
		return err
	}
	v := previewView(t.Record)
	v.Token = t.Secret
	v.URL = externalBase(r) + "/v1/hogboxes/" + id + "/proxy/" + strconv.Itoa(req.Port) + "/?token=" + t.Secret
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listPreviewTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.cfg.Boxes.PreviewTokens(r.Context(), identity(r).Principal.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := api.PreviewTokenList{Items: make([]api.PreviewToken, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, previewView(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokePreviewToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Boxes.RevokePreviewToken(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.PathValue("token_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func previewView(t store.ProxyToken) api.PreviewToken {
	return api.PreviewToken{ID: t.ID, BoxID: t.BoxID, Port: t.Port, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

// externalBase is the scheme and host the caller used to reach us.
func externalBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// proxyBuffers recycles the proxy's copy buffers across requests.
var proxyBuffers = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte  { return *p.pool.Get().(*[]byte) }
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
