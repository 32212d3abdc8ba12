package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/blob/s3blob/s3test"
)

// TestSnapshotS3 keeps snapshot layers in an S3-compatible store (moto's
// server on loopback): the layer is in the bucket, not on local disk, and
// a plane whose local cache is gone fetches it back to make boxes.
func TestSnapshotS3(t *testing.T) {
	requireRoot(t)
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	opts := planeOptions{Args: []string{"--blob-store", "s3://" + bucket + "/plane?endpoint=" + srv.Endpoint + "&region=" + s3test.Region + "&insecure=true"}}
	p := startPlaneOpts(t, t.TempDir(), opts)
	c := p.client(p.Token)
	golden := bake(c, api.CreateBoxRequest{Image: "busybox"})
	sn := c.snapshot(golden.ID)
	c.must("PUT", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, nil, 200)

	cl, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3test.AccessKey, s3test.SecretKey, ""), Region: s3test.Region})
	if err != nil {
		t.Fatal(err)
	}
	key := "plane/layers/sha256/" + strings.TrimPrefix(sn.Digest, "sha256:") + ".tar"
	info, err := cl.StatObject(context.Background(), bucket, key, minio.StatObjectOptions{})
	if err != nil || info.Size != sn.SizeBytes {
		t.Fatalf("layer in the bucket: %+v %v (want %d bytes)", info, err, sn.SizeBytes)
	}
	if _, err := os.Stat(filepath.Join(p.DataDir, "blobs")); err == nil {
		t.Error("layers went to the local blob directory too")
	}

	// A plane that lost its local cache fetches the layer from S3.
	p.stop(syscall.SIGTERM)
	if err := os.RemoveAll(filepath.Join(p.DataDir, "layers")); err != nil {
		t.Fatal(err)
	}
	p2 := startPlaneOpts(t, p.DataDir, opts)
	c2 := p2.client(p2.Token)
	b := c2.createBox(api.CreateBoxRequest{SnapshotID: "alias:golden"})
	checkBaked(c2, b.ID)

	// Deleting the snapshot frees the object.
	for _, id := range []string{b.ID, golden.ID} {
		c2.must("DELETE", "/v1/hogboxes/"+id, nil, nil, 204)
	}
	c2.must("DELETE", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, nil, 204)
	c2.must("DELETE", "/v1/snapshots/"+sn.ID, nil, nil, 204)
	if _, err := cl.StatObject(context.Background(), bucket, key, minio.StatObjectOptions{}); err == nil {
		t.Error("the deleted snapshot's layer is still in the bucket")
	}
}
