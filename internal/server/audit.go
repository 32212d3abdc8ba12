package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

// auditor writes audit entries in the background, in batches, so that an
// exec or a file write does not wait for an extra synchronous database
// write. Entries reach the database within auditFlushEvery, before any
// GET /v1/audit answers, and when the server closes. When the database
// falls behind, callers wait rather than entries being dropped.
type auditor struct {
	store     *store.Store
	log       *slog.Logger
	retention time.Duration

	mu     sync.RWMutex // read-held by senders; write-held to close
	closed bool
	in     chan store.AuditEntry
	flush  chan chan struct{}
	done   chan struct{}
}

const (
	auditFlushEvery = 250 * time.Millisecond
	auditBatch      = 256
	// DefaultAuditRetention is how long audit entries are kept.
	DefaultAuditRetention = 90 * 24 * time.Hour
)

func (s *Server) startAudit() {
	if s.cfg.Store == nil {
		return
	}
	ret := s.cfg.AuditRetention
	if ret <= 0 {
		ret = DefaultAuditRetention
	}
	a := &auditor{
		store: s.cfg.Store, log: s.log, retention: ret,
		in: make(chan store.AuditEntry, 1024), flush: make(chan chan struct{}), done: make(chan struct{}),
	}
	s.audit = a
	go a.run()
}

// Close writes the audit entries still pending and stops the writer.
// Calling it twice is harmless.
func (s *Server) Close() {
	if s.audit == nil {
		return
	}
	a := s.audit
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.in)
	}
	a.mu.Unlock()
	<-a.done
}

func (a *auditor) add(e store.AuditEntry) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.log.Warn("audit entry after close", "route", e.Route, "request_id", e.RequestID)
		return
	}
	a.in <- e
}

// sync waits until every entry added before it is in the database.
func (a *auditor) sync(ctx context.Context) error {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	closed := a.closed
	a.mu.RUnlock()
	if closed {
		return nil
	}
	ch := make(chan struct{})
	select {
	case a.flush <- ch:
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *auditor) run() {
	defer close(a.done)
	tick := time.NewTicker(auditFlushEvery)
	defer tick.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	a.prune()
	var batch []store.AuditEntry
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.store.AppendAudit(ctx, batch); err != nil {
			a.log.Error("write audit entries; they are lost", "entries", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-a.in:
			if !ok {
				write()
				return
			}
			batch = append(batch, e)
			if len(batch) >= auditBatch {
				write()
			}
		case <-tick.C:
			write()
		case ch := <-a.flush:
			// Everything sent before the flush request is in the channel.
		drain:
			for {
				select {
				case e, ok := <-a.in:
					if !ok {
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
			write()
			close(ch)
		case <-prune.C:
			a.prune()
		}
	}
}

func (a *auditor) prune() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := a.store.PruneAudit(ctx, time.Now().Add(-a.retention))
	if err != nil {
		a.log.Warn("prune audit log", "err", err)
	} else if n > 0 {
		a.log.Info("pruned audit log", "entries", n, "retention", a.retention.String())
	}
}

// record adds an audit entry for a call that may have changed something:
// any authenticated call but GET, HEAD and OPTIONS, and GETs that upgrade
// to a WebSocket (an interactive shell or a tunnel into a box), recorded
// when the call ends. Calls refused before
// the caller was known (401) and rate-limited calls (429) are left to the
// access log, so an anonymous flood cannot fill the audit log. Request
// bodies and secrets are never recorded.
func (s *Server) record(r *http.Request, rt Route, w *statusWriter, requestID string) {
	if s.audit == nil || rt.Public {
		return
	}
	switch r.Method {
	case http.MethodGet:
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			return
		}
	case http.MethodHead, http.MethodOptions:
		return
	}
	ident, ok := auth.FromContext(r.Context())
	if !ok {
		return
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusTooManyRequests {
		return
	}
	subject := ident.Subject
	if ident.Path == auth.PathAPIToken {
		subject = ident.TokenID
	}
	e := store.AuditEntry{
		At: time.Now().UTC(), PrincipalID: ident.Principal.ID, AuthPath: ident.Path, Subject: subject,
		Method: r.Method, Route: rt.Pattern, Status: status, RequestID: requestID,
	}
	auditTargets(r, rt.Pattern, w.Header().Get("Location"), &e)
	s.audit.add(e)
}

// auditTargets fills in what a call acted on, from the route's path values
// ({id} is a box under /v1/hogboxes and a snapshot under /v1/snapshots;
// other values such as {token_id} are the target), and from the Location
// of something it created.
func auditTargets(r *http.Request, pattern, location string, e *store.AuditEntry) {
	var others []string
	for _, seg := range strings.Split(pattern, "/") {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"), "...")
		v := r.PathValue(name)
		switch {
		case v == "" || name == "path":
		case name == "id" && strings.HasPrefix(pattern, "/v1/hogboxes/"):
			e.BoxID = v
		case name == "id" && strings.HasPrefix(pattern, "/v1/snapshots/"), name == "snapshot_id":
			e.SnapshotID = v
		default:
			others = append(others, v)
		}
	}
	if location != "" {
		id := location[strings.LastIndex(location, "/")+1:]
		switch {
		case strings.HasPrefix(location, "/v1/hogboxes/") && e.BoxID == "":
			e.BoxID = id
		case strings.HasPrefix(location, "/v1/snapshots/") && e.SnapshotID == "":
			e.SnapshotID = id
		case e.BoxID == "" && e.SnapshotID == "" && len(others) == 0:
			others = append(others, id)
		}
	}
	e.TargetID = strings.Join(others, "/")
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AuditFilter{PrincipalID: q.Get("principal"), BoxID: q.Get("box"), SnapshotID: q.Get("snapshot"), Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errs.New(errs.Invalid, "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errs.New(errs.Invalid, "after must be the seq of an entry (next_after of the previous page), got %q", v)
		}
		f.After = n
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errs.New(errs.Invalid, "since must be an RFC 3339 time such as 2025-01-02T15:04:05Z, got %q", v)
		}
		f.Since = t
	}
	if err := s.audit.sync(r.Context()); err != nil {
		return errs.Wrap(errs.Unavailable, err, "audit log is not answering")
	}
	entries, err := s.cfg.Store.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	out := api.AuditList{Items: make([]api.AuditEntry, 0, len(entries))}
	for _, e := range entries {
		out.Items = append(out.Items, api.AuditEntry{
			Seq: e.Seq, At: e.At, PrincipalID: e.PrincipalID, AuthPath: e.AuthPath, Subject: e.Subject,
			Method: e.Method, Route: e.Route, BoxID: e.BoxID, SnapshotID: e.SnapshotID, TargetID: e.TargetID,
			Status: e.Status, RequestID: e.RequestID,
		})
	}
	if len(entries) == f.Limit {
		out.NextAfter = entries[len(entries)-1].Seq
	}
	return writeJSON(w, http.StatusOK, out)
}
