package plane

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/auth"
	"github.com/PostHog/hogland/internal/image"
	"github.com/PostHog/hogland/internal/store"
)

// bootstrap makes the admin principal and its token on a fresh database,
// writing the token to DIR/admin.token (mode 0600) before the database
// knows it, so a crash in between only means a new token next start. It
// returns the admin token as the file holds it.
func bootstrap(ctx context.Context, st *store.Store, dir string) (string, error) {
	path := filepath.Join(dir, "admin.token")
	n, err := st.CountPrincipals(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		b, err := os.ReadFile(path)
		if err != nil {
			return "(unknown: admin.token is gone; mint a new token with an admin credential)", nil
		}
		return strings.TrimSpace(string(b)), nil
	}
	secret, hash := auth.NewToken()
	if err := writeFileAtomic(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	now := time.Now().UTC()
	p := store.Principal{ID: auth.RandomID("prn-", 12), Name: "admin", Kind: "user", Admin: true, CreatedAt: now}
	if err := st.CreatePrincipal(ctx, p); err != nil {
		return "", err
	}
	t := store.Token{ID: auth.RandomID("tid-", 12), PrincipalID: p.ID, Hash: hash, Name: "bootstrap", CreatedAt: now}
	if err := st.CreateToken(ctx, t); err != nil {
		return "", err
	}
	return secret, nil
}

// writeFileAtomic writes data to path via a synced temp file and rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this is a no-op
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// imageCmd builds an image into the cache ahead of use.
func imageCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "build" {
		return fmt.Errorf("usage: hogplane image build NAME [--data-dir DIR | --image-dir DIR]")
	}
	name := args[1]
	fs := flag.NewFlagSet("hogplane image build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "/var/lib/hogland", "hogplane's data directory")
	imageDir := fs.String("image-dir", "", "image cache directory (default DATA-DIR/images)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	dir := *imageDir
	if dir == "" {
		dir = filepath.Join(*dataDir, "images")
	}
	images, err := image.NewStore(image.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	if !images.Known(name) {
		return fmt.Errorf("unknown image %q", name)
	}
	start := time.Now()
	rootfs, err := images.Ensure(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "image %s ready at %s (%s)\n", name, rootfs, time.Since(start).Round(time.Millisecond))
	return nil
}
