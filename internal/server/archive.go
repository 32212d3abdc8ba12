package server

import (
	"io"
	"mime"
	"net/http"

	"github.com/PostHog/hogland/internal/errs"
)

// readArchive streams a tar of ?path= in the box (a file, symlink or
// directory tree). A failure after the answer started aborts the
// response, so the client sees a broken body rather than an archive that
// merely looks complete.
func (s *Server) readArchive(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.cfg.Boxes.ReadArchive(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if _, err := io.CopyBuffer(w, rc, make([]byte, 64<<10)); err != nil {
		s.logger(r).Warn("read archive: stream broken", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// writeArchive extracts the tar stream of the body into the directory
// ?path= in the box, streaming; ?mkdir=true creates it.
func (s *Server) writeArchive(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-tar" && mt != "application/octet-stream" {
			return errs.New(errs.Unsupported, "Content-Type must be application/x-tar, got %q", ct)
		}
	}
	q := r.URL.Query()
	mkdir, err := boolParam(q, "mkdir", false)
	if err != nil {
		return err
	}
	info, err := s.cfg.Boxes.WriteArchive(r.Context(), identity(r).Principal.ID, r.PathValue("id"), q.Get("path"), mkdir, r.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}
