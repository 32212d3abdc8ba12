package plane

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/PostHog/hogland/internal/blob"
	"github.com/PostHog/hogland/internal/blob/fileblob"
	"github.com/PostHog/hogland/internal/blob/s3blob"
	"github.com/PostHog/hogland/internal/box"
	"github.com/PostHog/hogland/internal/metrics"
	"github.com/PostHog/hogland/internal/snapshot"
)

// SnapshotOptions are hogplane serve's snapshot and devbox settings.
type SnapshotOptions struct {
	// BlobStore is where snapshot layers are kept: a directory (or
	// file:///DIR), or s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=R&
	// insecure=true with credentials in AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY. Default DATA-DIR/blobs.
	BlobStore string
	// LayerDir caches unpacked layers. Default DATA-DIR/layers.
	LayerDir string
	// MaxDepth bounds the snapshot layers a box stacks.
	MaxDepth int
	// MinAutoStop is the shortest auto_stop_seconds a devbox may have.
	MinAutoStop int64
}

func (o *SnapshotOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.BlobStore, "blob-store", "", "where snapshot layers are kept: a directory, file:///DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=R&insecure=true (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) (default DATA-DIR/blobs)")
	fs.StringVar(&o.LayerDir, "layer-dir", "", "cache of unpacked snapshot layers, on the data dir's filesystem (default DATA-DIR/layers)")
	fs.IntVar(&o.MaxDepth, "snapshot-max-depth", 8, "snapshot layers a box may stack; a deeper snapshot merges them into one")
	fs.Int64Var(&o.MinAutoStop, "devbox-min-auto-stop", box.DefaultLimits().AutoStopSeconds.Min, "shortest auto_stop_seconds a devbox may have")
}

// limits applies the options to the box limits.
func (o *SnapshotOptions) limits(l box.Limits) box.Limits {
	if o.MinAutoStop > 0 {
		l.AutoStopSeconds.Min = o.MinAutoStop
	}
	return l
}

// open opens the blob store and the layer cache.
func (o *SnapshotOptions) open(ctx context.Context, dataDir string, log *slog.Logger, met *metrics.Metrics) (*snapshot.Layers, error) {
	blobs, err := openBlobStore(ctx, o.BlobStore, filepath.Join(dataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	dir := o.LayerDir
	if dir == "" {
		dir = filepath.Join(dataDir, "layers")
	}
	log.Info("snapshot layers", "blob_store", blobs.String(), "cache", dir, "max_depth", o.MaxDepth)
	return snapshot.New(snapshot.Config{Blobs: blobs, Dir: dir, Log: log, Corrupt: func(string) {
		if met != nil {
			met.CorruptLayers.Inc()
		}
	}})
}

// openBlobStore opens the store a --blob-store value names.
func openBlobStore(ctx context.Context, spec, def string) (blob.Store, error) {
	switch {
	case spec == "":
		return fileblob.New(def)
	case strings.HasPrefix(spec, "s3://"):
		cfg, err := s3blob.ParseURL(spec)
		if err != nil {
			return nil, err
		}
		return s3blob.New(ctx, cfg)
	case strings.HasPrefix(spec, "file://"):
		return fileblob.New(strings.TrimPrefix(spec, "file://"))
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("--blob-store %q: want a directory, file:///DIR or s3://BUCKET/PREFIX", spec)
	}
	return fileblob.New(spec)
}
