package s3blob

import (
	"context"
	"testing"

	"github.com/PostHog/hogland/internal/blob/blobtest"
	"github.com/PostHog/hogland/internal/blob/s3blob/s3test"
)

func TestContract(t *testing.T) {
	srv := s3test.Start(t)
	s, err := New(context.Background(), Config{
		Endpoint: srv.Endpoint, Bucket: srv.Bucket(t), Prefix: "plane-1/", Region: s3test.Region,
		Insecure: true, PathStyle: true, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)
}

func TestMissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	_, err := New(context.Background(), Config{
		Endpoint: srv.Endpoint, Bucket: "no-such-bucket", Region: s3test.Region,
		Insecure: true, PathStyle: true, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
	})
	if err == nil {
		t.Fatal("New with a missing bucket succeeded")
	}
}

func TestParseURL(t *testing.T) {
	c, err := ParseURL("s3://bucket/some/prefix?endpoint=127.0.0.1:9000&region=eu-west-1&insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Bucket: "bucket", Prefix: "some/prefix/", Endpoint: "127.0.0.1:9000", Region: "eu-west-1", Insecure: true, PathStyle: true}
	if c != want {
		t.Errorf("ParseURL = %+v, want %+v", c, want)
	}
	for _, bad := range []string{"file:///x", "s3://", "s3://key:secret@bucket/"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		}
	}
}
