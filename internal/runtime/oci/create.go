package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

// cleanupTimeout bounds the cleanup of a failed Create.
const cleanupTimeout = time.Minute

// Create makes box spec.ID: its disk, overlay root, bundle and run dir,
// then starts its init with `<runtime> run --detach`, returning once the
// runtime has started it. On any failure, or if ctx ends first,
// everything made so far is undone before Create returns.
func (d *Driver) Create(ctx context.Context, spec runtime.Spec) error {
	if err := validate(spec); err != nil {
		return err
	}
	id := spec.ID
	if exists(d.containerDir(id)) {
		return errs.New(errs.Conflict, "box %s already exists", id)
	}
	p := d.paths(id)
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return errs.New(errs.Conflict, "box %s already exists", id)
		}
		return fmt.Errorf("create %s: %w", id, err)
	}
	start := time.Now()
	if err := d.make(ctx, spec, p); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if derr := d.Destroy(cctx, id); derr != nil {
			d.log.Error("clean up failed create", "box", id, "err", derr)
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err) // the runtime was killed for it
		}
		return fmt.Errorf("create %s: %w", id, err)
	}
	d.log.Info("box created", "box", id, "took", time.Since(start).Round(time.Microsecond))
	return nil
}

// make builds box spec.ID in its (new, empty) directory and starts it.
func (d *Driver) make(ctx context.Context, spec runtime.Spec, p boxPaths) error {
	if err := d.makeDisk(ctx, spec.DiskGiB, p); err != nil {
		return err
	}
	if err := mountOverlay(spec.Layers, p); err != nil {
		return err
	}
	if err := d.writeBundle(spec, p); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := d.linkRunDir(spec.ID, p); err != nil {
		return fmt.Errorf("link run dir: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.runtimeRun(ctx, spec.ID, p)
}

// makeDisk copies the formatted template of gib GiB to the box's disk
// image, mounts it, and makes the overlay's upper and work dirs and the
// agent's run dir on it.
func (d *Driver) makeDisk(ctx context.Context, gib int64, p boxPaths) error {
	tmpl, err := d.tmpls.get(ctx, gib)
	if err != nil {
		return fmt.Errorf("disk template: %w", err)
	}
	if err := copySparse(tmpl, p.disk); err != nil {
		return fmt.Errorf("copy disk: %w", err)
	}
	if err := os.Mkdir(p.diskMnt, 0o700); err != nil {
		return err
	}
	if err := mountDisk(p.disk, p.diskMnt); err != nil {
		return fmt.Errorf("mount disk: %w", err)
	}
	for _, dir := range []string{p.upper, p.work, p.run} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
	}
	// The upper dir's mode becomes the mode of the box's /.
	return os.Chmod(p.upper, 0o755)
}

// mountOverlay mounts the box's root: layers read-only (uppermost first)
// under the writable upper dir on the box's disk.
func mountOverlay(layers []string, p boxPaths) error {
	if err := os.Mkdir(p.rootfs, 0o755); err != nil {
		return err
	}
	// Redirects and metacopy off, whatever the kernel's defaults: the
	// upper dir must hold whole files and directories, so that a snapshot
	// of it (package layer) means the same stacked on other layers.
	data := "lowerdir=" + strings.Join(uniqueLayers(layers), ":") + ",upperdir=" + p.upper + ",workdir=" + p.work +
		",redirect_dir=off,metacopy=off"
	if len(data) >= os.Getpagesize() {
		return errs.New(errs.Invalid, "overlay options are %d bytes, over a page: too many or too long layer paths", len(data))
	}
	if err := unix.Mount("overlay", p.rootfs, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	return nil
}

func (d *Driver) writeBundle(spec runtime.Spec, p boxPaths) error {
	s, err := d.bundleSpec(spec, p.run)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(p.config, data, 0o600)
}

// linkRunDir points RunDir/boxes/<id> at the box's run dir, replacing a
// stale link a crash may have left.
func (d *Driver) linkRunDir(id string, p boxPaths) error {
	link := d.runLink(id)
	err := os.Symlink(p.run, link)
	if errors.Is(err, fs.ErrExist) {
		if err := os.Remove(link); err != nil {
			return err
		}
		err = os.Symlink(p.run, link)
	}
	return err
}

// validate checks a spec before anything is made; its errors are
// errs.Invalid.
func validate(s runtime.Spec) error {
	if !idPattern.MatchString(s.ID) {
		return errs.New(errs.Invalid, "box id %q is not valid: want 1-63 letters, digits, - or _", s.ID)
	}
	if len(s.Layers) == 0 {
		return errs.New(errs.Invalid, "box %s has no root filesystem layers", s.ID)
	}
	for _, l := range s.Layers {
		if !filepath.IsAbs(l) || strings.ContainsAny(l, ",:\\") {
			return errs.New(errs.Invalid, "layer %q: want an absolute path without , : or \\", l)
		}
		if fi, err := os.Stat(l); err != nil || !fi.IsDir() {
			return errs.New(errs.Invalid, "layer %q is not a directory", l)
		}
	}
	if fi, err := os.Stat(s.AgentPath); !filepath.IsAbs(s.AgentPath) || err != nil || !fi.Mode().IsRegular() {
		return errs.New(errs.Invalid, "agent %q is not an absolute path to a file", s.AgentPath)
	}
	if s.DiskGiB < 1 {
		return errs.New(errs.Invalid, "disk of %d GiB: want at least 1", s.DiskGiB)
	}
	if s.CPUs < 0 || s.MemoryMiB < 0 || s.Pids < 0 {
		return errs.New(errs.Invalid, "negative limits: cpus %d, memory %d MiB, pids %d", s.CPUs, s.MemoryMiB, s.Pids)
	}
	return nil
}

// uniqueLayers drops repeats of a layer, keeping the uppermost: overlayfs
// refuses a lowerdir listed twice (ELOOP), and snapshots that captured
// nothing new share one content-addressed layer. The uppermost copy
// already masks everything the lower one would, whiteouts included, so
// the merged tree is the same.
func uniqueLayers(layers []string) []string {
	seen := make(map[string]bool, len(layers))
	out := make([]string, 0, len(layers))
	for _, l := range layers {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
