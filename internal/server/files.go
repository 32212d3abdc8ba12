package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/PostHog/hogland/internal/errs"
)

// writeFile stores the raw request body at ?path= in the box, atomically.
// ?mode= is octal (default 0644); ?mkdir=true creates missing parents.
func (s *Server) writeFile(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	mode := os.FileMode(0o644)
	if v := q.Get("mode"); v != "" {
		n, err := strconv.ParseUint(v, 8, 32)
		if err != nil || n > 0o7777 {
			return errs.New(errs.Invalid, "mode must be octal permission bits such as 0644, got %q", v)
		}
		mode = os.FileMode(n)
	}
	mkdir, err := boolParam(q, "mkdir", false)
	if err != nil {
		return err
	}
	max := s.cfg.Boxes.Limits().FileSizeBytes.Max
	if r.ContentLength > max {
		return errs.New(errs.TooLarge, "file is %d bytes; the limit is %d", r.ContentLength, max)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	fi, err := s.cfg.Boxes.WriteFile(r.Context(), identity(r).Principal.ID, r.PathValue("id"), q.Get("path"), mode, mkdir, body, r.ContentLength)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.New(errs.TooLarge, "file is larger than the limit of %d bytes", max)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, fi)
}

// readFile streams the file at ?path= in the box until its end, so files
// whose size the kernel does not report (/proc, /sys) read in full.
func (s *Server) readFile(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.cfg.Boxes.ReadFile(r.Context(), identity(r).Principal.ID, r.PathValue("id"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		s.logger(r).Warn("read file: stream broken", "err", err)
	}
	return nil
}
