// Package s3blob is a blob.Store in a bucket of any S3-compatible object
// store (AWS S3, MinIO, Ceph, R2, ...), through the MinIO Go client. A
// blob is the object PREFIX/KEY; S3 makes an object visible only once it
// is whole and durable, so a Put that fails half-way stores nothing.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/PostHog/hogland/internal/blob"
	"github.com/PostHog/hogland/internal/errs"
)

// Config says where the bucket is and how to reach it.
type Config struct {
	// Endpoint is the store's host[:port] (default s3.amazonaws.com).
	Endpoint string
	// Bucket must exist already.
	Bucket string
	// Prefix is put before every key (for example "hogland/"), so that
	// several planes can share one bucket.
	Prefix string
	// Region of the bucket; empty lets the client find out.
	Region string
	// Insecure talks plain HTTP (for a store on the same machine).
	Insecure bool
	// AccessKey and SecretKey; when both are empty they come from the
	// environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or
	// MINIO_ACCESS_KEY / MINIO_SECRET_KEY), then from IAM.
	AccessKey, SecretKey string
	// PathStyle forces path-style requests (endpoint/bucket/key), which
	// most self-hosted stores want; AWS gets virtual-host style.
	PathStyle bool
}

// ParseURL reads a Config from s3://BUCKET/PREFIX?endpoint=HOST:PORT&
// region=R&insecure=true&path_style=true. Credentials come from the
// environment, never from the URL.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("blob store URL %q: want s3://BUCKET[/PREFIX][?endpoint=HOST:PORT&region=R&insecure=true]", raw)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("blob store URL: put credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL")
	}
	q := u.Query()
	c := Config{
		Bucket:   u.Host,
		Prefix:   strings.TrimPrefix(u.Path, "/"),
		Endpoint: q.Get("endpoint"),
		Region:   q.Get("region"),
		Insecure: q.Get("insecure") == "true" || q.Get("insecure") == "1",
	}
	c.PathStyle = q.Get("path_style") != "false" && c.Endpoint != ""
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	return c, nil
}

// Store keeps blobs in an S3 bucket.
type Store struct {
	cfg Config
	cl  *minio.Client
}

var _ blob.Store = (*Store)(nil)

// New makes a Store and checks that its bucket can be reached.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = "s3.amazonaws.com"
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	if cfg.AccessKey == "" && cfg.SecretKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	cl, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	s := &Store{cfg: cfg, cl: cl}
	ok, err := cl.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: reach bucket %s at %s: %w (are the endpoint and credentials right?)", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3blob: bucket %s does not exist at %s; create it first", cfg.Bucket, cfg.Endpoint)
	}
	return s, nil
}

func (s *Store) String() string {
	scheme := "https"
	if s.cfg.Insecure {
		scheme = "http"
	}
	return fmt.Sprintf("s3://%s/%s (%s://%s)", s.cfg.Bucket, s.cfg.Prefix, scheme, s.cfg.Endpoint)
}

func (s *Store) object(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return s.cfg.Prefix + key, nil
}

// Put uploads size bytes of r (in parts when large).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	cr := &countReader{r: io.LimitReader(r, size+1)}
	_, err = s.cl.PutObject(ctx, s.cfg.Bucket, obj, cr, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", SendContentMd5: false,
	})
	if err == nil && cr.n != size {
		_ = s.cl.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, obj, minio.RemoveObjectOptions{})
		err = fmt.Errorf("got %d bytes, want %d", cr.n, size)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutFile uploads the file and removes it.
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := s.Put(ctx, key, f, fi.Size()); err != nil {
		return err
	}
	return os.Remove(path)
}

// Open starts a download.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.object(key)
	if err != nil {
		return nil, err
	}
	o, err := s.cl.GetObject(ctx, s.cfg.Bucket, obj, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap(key, err)
	}
	// GetObject is lazy: Stat makes the request and finds a missing key.
	if _, err := o.Stat(); err != nil {
		o.Close()
		return nil, s.wrap(key, err)
	}
	return o, nil
}

// Size asks for the object's size.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	obj, err := s.object(key)
	if err != nil {
		return 0, err
	}
	info, err := s.cl.StatObject(ctx, s.cfg.Bucket, obj, minio.StatObjectOptions{})
	if err != nil {
		return 0, s.wrap(key, err)
	}
	return info.Size, nil
}

// Delete removes the object (S3 answers success for a missing one).
func (s *Store) Delete(ctx context.Context, key string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.cl.RemoveObject(ctx, s.cfg.Bucket, obj, minio.RemoveObjectOptions{}); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List lists the objects under the prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for o := range s.cl.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, o.Err)
		}
		out = append(out, strings.TrimPrefix(o.Key, s.cfg.Prefix))
	}
	return out, nil
}

func (s *Store) wrap(key string, err error) error {
	if isNotFound(err) {
		return errs.New(errs.NotFound, "blob %s not found in %s", key, s)
	}
	return fmt.Errorf("blob %s: %w", key, err)
}

func isNotFound(err error) bool {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		return r.Code == "NoSuchKey" || r.StatusCode == 404
	}
	return false
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
