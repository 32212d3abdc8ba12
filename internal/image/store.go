// Package image builds and keeps the root filesystems that boxes start
// from. An image is a plain directory, used read-only as the lowest
// overlay layer of every box made from it.
//
// Images live in the store's directory as Dir/<name>. A build happens in a
// temporary directory Dir/.build-<name>-* and is renamed into place only
// once complete, so a directory Dir/<name> is always a finished image.
// Builds of one image are serialised within the process (callers wait for
// the one build) and across processes (an flock on Dir/.<name>.lock), so
// several programs may share one store directory.
package image

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

// Image names.
const (
	// Debian is Debian bookworm minbase with python3-minimal and
	// ca-certificates. It is the default image.
	Debian = "debian"
	// Busybox is a tiny image of a static busybox and its applets.
	Busybox = "busybox"
	// Default is the image used when none is asked for.
	Default = Debian
)

// Config configures a Store.
type Config struct {
	// Dir holds the images (required). It must be on a filesystem that
	// overlayfs accepts as a lower layer (ext4, xfs, btrfs...).
	Dir string
	// DebianMirror is the Debian archive debootstrap fetches from.
	// Default http://deb.debian.org/debian.
	DebianMirror string
	// DebianSuite is the Debian release. Default bookworm.
	DebianSuite string
	// BusyboxPath is the static busybox binary copied into the busybox
	// image. Default /bin/busybox (Debian package busybox-static).
	BusyboxPath string
	// DebootstrapPath is the debootstrap program. Default: found in PATH,
	// /usr/sbin or /sbin (Debian package debootstrap).
	DebootstrapPath string
	// Logger receives build progress. Default slog.Default().
	Logger *slog.Logger
}

// Info describes one image the store can provide.
type Info struct {
	Name string
	// Ready is true once the image is built.
	Ready bool
	// Rootfs is where the image is (or will be once built).
	Rootfs string
}

// builder makes an image's root filesystem in an empty directory.
type builder interface {
	build(ctx context.Context, dir string) error
}

// Store builds images on demand and keeps them. It is safe for concurrent
// use.
type Store struct {
	cfg      Config
	log      *slog.Logger
	builders map[string]builder

	mu       sync.Mutex
	inflight map[string]*build
}

// build is one in-progress build that callers wait for.
type build struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewStore makes a store over cfg.Dir, creating the directory if needed.
func NewStore(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("image store: no directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	cfg.Dir = dir
	if cfg.DebianMirror == "" {
		cfg.DebianMirror = "http://deb.debian.org/debian"
	}
	if cfg.DebianSuite == "" {
		cfg.DebianSuite = "bookworm"
	}
	if cfg.BusyboxPath == "" {
		cfg.BusyboxPath = "/bin/busybox"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	s := &Store{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "image"),
		inflight: map[string]*build{},
	}
	s.builders = map[string]builder{
		Busybox: busyboxBuilder{path: cfg.BusyboxPath},
		Debian: debianBuilder{
			debootstrap: cfg.DebootstrapPath,
			suite:       cfg.DebianSuite,
			mirror:      cfg.DebianMirror,
			log:         s.log,
		},
	}
	return s, nil
}

// Known reports whether the store can provide the image name.
func (s *Store) Known(name string) bool {
	_, ok := s.builders[name]
	return ok
}

// List returns every image the store can provide, built or not, sorted by
// name.
func (s *Store) List() []Info {
	var out []Info
	for name := range s.builders {
		p := s.rootfs(name)
		out = append(out, Info{Name: name, Ready: isDir(p), Rootfs: p})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Ensure returns the root filesystem of image name, building it first if
// it is not built yet. Concurrent callers share one build. A caller whose
// ctx ends stops waiting; the build itself is abandoned (and its temporary
// directory removed) only when every caller waiting for it has gone.
// An unknown name is an errs.NotFound.
func (s *Store) Ensure(ctx context.Context, name string) (string, error) {
	if !s.Known(name) {
		return "", errs.New(errs.NotFound, "image %q is not known", name)
	}
	p := s.rootfs(name)
	if isDir(p) {
		return p, nil
	}
	b := s.join(name)
	select {
	case <-b.done:
		s.leave(name, b)
		if b.err != nil {
			return "", b.err
		}
		return p, nil
	case <-ctx.Done():
		s.leave(name, b)
		return "", fmt.Errorf("ensure image %s: %w", name, ctx.Err())
	}
}

// join registers the caller as a waiter of name's build, starting the
// build if none is running.
func (s *Store) join(name string) *build {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.inflight[name]; ok {
		b.waiters++
		return b
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &build{done: make(chan struct{}), waiters: 1, cancel: cancel}
	s.inflight[name] = b
	go func() {
		b.err = s.buildLocked(ctx, name)
		cancel()
		s.mu.Lock()
		delete(s.inflight, name)
		s.mu.Unlock()
		close(b.done)
	}()
	return b
}

// leave unregisters a waiter; the last one to leave an unfinished build
// cancels it.
func (s *Store) leave(name string, b *build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.waiters--
	if b.waiters == 0 {
		select {
		case <-b.done:
		default:
			s.log.Info("abandoning image build: no one waits for it", "image", name)
			b.cancel()
		}
	}
}

// buildLocked builds name under the cross-process lock, unless another
// process finished it meanwhile.
func (s *Store) buildLocked(ctx context.Context, name string) error {
	unlock, err := lockFile(ctx, filepath.Join(s.cfg.Dir, "."+name+".lock"))
	if err != nil {
		return fmt.Errorf("build image %s: lock: %w", name, err)
	}
	defer unlock()
	final := s.rootfs(name)
	if isDir(final) {
		return nil
	}
	s.removeStale(name)
	tmp, err := os.MkdirTemp(s.cfg.Dir, ".build-"+name+"-")
	if err != nil {
		return fmt.Errorf("build image %s: %w", name, err)
	}
	start := time.Now()
	s.log.Info("building image", "image", name, "dir", tmp)
	err = s.fill(ctx, name, tmp)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		if rerr := removeTree(tmp); rerr != nil {
			s.log.Error("remove failed image build", "dir", tmp, "err", rerr)
		}
		return fmt.Errorf("build image %s: %w", name, err)
	}
	s.log.Info("built image", "image", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// fill runs the builder of name in dir, which becomes the image's root.
func (s *Store) fill(ctx context.Context, name, dir string) error {
	// MkdirTemp makes 0700; the box's / must be traversable by every user.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return s.builders[name].build(ctx, dir)
}

// removeStale removes temporary directories of name's earlier builds that
// died half-way. It runs under name's lock, so none of them is live.
func (s *Store) removeStale(name string) {
	old, _ := filepath.Glob(filepath.Join(s.cfg.Dir, ".build-"+name+"-*"))
	for _, dir := range old {
		s.log.Warn("removing stale image build", "dir", dir)
		if err := removeTree(dir); err != nil {
			s.log.Error("remove stale image build", "dir", dir, "err", err)
		}
	}
}

// recipes counts changes to an image's recipe. A new number gives the
// image a new directory, so caches built by an older recipe are not used.
var recipes = map[string]int{Debian: 2}

func (s *Store) rootfs(name string) string {
	if v := recipes[name]; v > 1 {
		name = fmt.Sprintf("%s-v%d", name, v)
	}
	return filepath.Join(s.cfg.Dir, name)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
