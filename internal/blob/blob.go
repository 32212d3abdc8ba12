// Package blob is where hogland keeps immutable blobs, such as snapshot
// layer archives: an interface, with one package per backend (fileblob,
// a local directory, the default; s3blob, any S3-compatible store).
//
// Keys are chosen by the caller, slash-separated segments of lowercase
// letters, digits, '.', '_' and '-' (for example
// "layers/sha256/<hex>.tar"). Blobs are written once and never changed:
// content-addressed callers store the same bytes under the same key, so
// storing a key again is harmless.
package blob

import (
	"context"
	"io"
	"regexp"

	"github.com/PostHog/hogland/internal/errs"
)

// Store keeps blobs. Its methods are safe for concurrent use. A method
// given a key that is not valid returns an errs.Invalid; one whose blob
// does not exist returns an errs.NotFound, except Delete, for which a
// missing blob is success. A cancelled context abandons the call; a Put
// abandoned or failed half-way stores nothing under the key.
type Store interface {
	// Put stores size bytes read from r under key and returns once they
	// are durable. If r yields more or fewer bytes, or fails, nothing is
	// stored.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// PutFile stores the local file at path under key, as Put, and
	// removes the file. A store on the same filesystem moves it there.
	PutFile(ctx context.Context, key, path string) error
	// Open returns the blob's content, to be closed by the caller.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Size returns the blob's size in bytes.
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes the blob. Deleting a missing blob is success.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// String names the store for logs, without credentials.
	String() string
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$`)

// CheckKey returns an errs.Invalid for a key no blob may have.
func CheckKey(key string) error {
	if len(key) > 512 || !keyRE.MatchString(key) {
		return errs.New(errs.Invalid, "blob key %q is not valid: want slash-separated segments of a-z, 0-9, '.', '_' and '-'", key)
	}
	return nil
}
