package server

import (
	"net/http"
	"strings"

	"github.com/PostHog/hogland/internal/errs"
)

// resolveBoxName lets a box route take the name of one of the caller's
// live boxes where it takes an id (/v1/hogboxes/web/exec), by rewriting
// the path value to the id before the handler runs. An id, or a name no
// live box of the caller has, is left for the handler to answer.
func (s *Server) resolveBoxName(r *http.Request, rt Route, owner string) error {
	if !strings.HasPrefix(rt.Pattern, "/v1/hogboxes/{id}") {
		return nil
	}
	v := r.PathValue("id")
	if v == "" || strings.HasPrefix(v, "box-") {
		return nil
	}
	id, err := s.cfg.Store.LiveBoxID(r.Context(), owner, v)
	if errs.Is(err, errs.NotFound) {
		return errs.New(errs.NotFound, "no live box named %q", v)
	}
	if err != nil {
		return err
	}
	r.SetPathValue("id", id)
	return nil
}
