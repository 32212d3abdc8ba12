// Package oci is the runtime.Driver that runs boxes as OCI containers
// with runc (or crun, or runsc).
//
// Each box gets an overlayfs root: the image and snapshot layers read-only
// below, a writable upper layer on a per-box ext4 filesystem in a sparse
// image file of Spec.DiskGiB, loop-mounted, so a full disk is ENOSPC in
// the box and never fills the host. Its init is hogpanion, reached over a
// Unix socket in a per-box run directory bind-mounted into the box.
//
// On disk (StateDir is Config.StateDir, RunDir is Config.RunDir):
//
//	StateDir/templates/ext4-<N>g.img  formatted empty disk of N GiB, copied per box
//	StateDir/boxes/<id>/               the box's OCI bundle
//	    config.json                    OCI runtime spec
//	    disk.img                       sparse ext4 image of DiskGiB
//	    disk/                          its mount: upper/, work/, run/, init.log
//	    rootfs/                        the overlay mount
//	    runtime.log                    the runtime's own log (JSON lines)
//	RunDir/runtime/<id>/               the runtime's state (--root)
//	RunDir/boxes/<id> -> StateDir/boxes/<id>/disk/run
//	                                   the agent socket dir (/.hogland/run in the box)
//
// The run dir lives on the box's own disk, so what the box writes there
// counts against its disk, and so does the init's output (init.log); the
// symlink keeps the socket path, RunDir/boxes/<id>/agent.sock, short (Unix
// socket paths are limited to 108 bytes).
//
// With runc, State, Stats, Pause and Resume spawn nothing: they read
// runc's state.json, /proc and the box's cgroup, and write the cgroup
// freezer (runc reads the same freezer for its own view). Cgroups v1
// (including hybrid) and v2 are both handled. Other runtimes go through
// their CLI for state, pause and resume.
//
// At startup hogplane should call Cleanup with the ids it knows, to
// destroy boxes orphaned by a crash (after a reboot RunDir is empty and
// every box dir left in StateDir lists as stopped).
//
// Host needs: root, runc (or crun/runsc), mkfs.ext4 (e2fsprogs), and the
// overlay, ext4 and loop kernel modules.
package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/runtime"
)

// Config configures a Driver.
type Config struct {
	// StateDir holds the per-box directories (disk image, mounts, bundle)
	// and the disk templates (required). Disk images are sparse files:
	// the filesystem must support holes (ext4, xfs, btrfs).
	StateDir string
	// RunDir holds the runtime's state and the agent socket links. It
	// must be short: default /run/hogland/<first 8 hex of sha256(StateDir)>.
	RunDir string
	// Runtime is the OCI runtime: "runc" (default), "crun" or "runsc".
	Runtime string
	// RuntimePath is the runtime's binary. Default: Runtime looked up in
	// PATH, /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin.
	RuntimePath string
	// RuntimeArgs are global flags given to every runtime invocation
	// before the subcommand (for example --platform=ptrace for runsc).
	RuntimeArgs []string
	// CgroupParent is the cgroup every box's cgroup is made under, as
	// /<CgroupParent>/<id> (cgroupfs). Default "hogland".
	CgroupParent string
	// Logger receives driver events. Default slog.Default().
	Logger *slog.Logger
}

// Driver runs boxes as OCI containers. See the package doc.
type Driver struct {
	cfg   Config
	log   *slog.Logger
	cg    *cgroups
	tmpls *templates
}

var _ runtime.Driver = (*Driver)(nil)

// New checks cfg, fills in its defaults, finds the runtime and the host's
// cgroup layout, and makes the driver's directories.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("oci: no state dir")
	}
	state, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("oci: %w", err)
	}
	cfg.StateDir = state
	if cfg.RunDir == "" {
		sum := sha256.Sum256([]byte(state))
		cfg.RunDir = filepath.Join("/run/hogland", hex.EncodeToString(sum[:4]))
	}
	// The longest socket path must fit a sockaddr_un (108 bytes with NUL).
	if n := len(cfg.RunDir) + len("/boxes//agent.sock") + 63; n > 107 {
		return nil, fmt.Errorf("oci: run dir %q is too long for socket paths (%d bytes > 107)", cfg.RunDir, n)
	}
	if cfg.Runtime == "" {
		cfg.Runtime = "runc"
	}
	if cfg.RuntimePath == "" {
		if cfg.RuntimePath, err = findProgram(cfg.Runtime); err != nil {
			return nil, fmt.Errorf("oci: %w", err)
		}
	}
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = "hogland"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cg, err := detectCgroups()
	if err != nil {
		return nil, fmt.Errorf("oci: %w", err)
	}
	d := &Driver{cfg: cfg, log: cfg.Logger.With("driver", "oci"), cg: cg}
	d.tmpls = &templates{dir: filepath.Join(state, "templates")}
	for _, dir := range []string{d.boxesDir(), d.tmpls.dir, d.runtimeRoot(), d.linksDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("oci: %w", err)
		}
	}
	return d, nil
}

// Name is "oci".
func (d *Driver) Name() string { return "oci" }

// Config returns the driver's configuration with defaults filled in.
func (d *Driver) Config() Config { return d.cfg }

func (d *Driver) boxesDir() string              { return filepath.Join(d.cfg.StateDir, "boxes") }
func (d *Driver) boxDir(id string) string       { return filepath.Join(d.boxesDir(), id) }
func (d *Driver) runtimeRoot() string           { return filepath.Join(d.cfg.RunDir, "runtime") }
func (d *Driver) containerDir(id string) string { return filepath.Join(d.runtimeRoot(), id) }
func (d *Driver) linksDir() string              { return filepath.Join(d.cfg.RunDir, "boxes") }
func (d *Driver) runLink(id string) string      { return filepath.Join(d.linksDir(), id) }

// SocketPath is the host path of box id's agent socket.
func (d *Driver) SocketPath(id string) string { return filepath.Join(d.runLink(id), "agent.sock") }

// cgroupPath is box id's cgroup, as given to the runtime.
func (d *Driver) cgroupPath(id string) string { return "/" + d.cfg.CgroupParent + "/" + id }

// boxPaths names the parts of one box's directory.
type boxPaths struct {
	dir, disk, diskMnt, upper, work, run, rootfs, initLog, runtimeLog, config string
}

func (d *Driver) paths(id string) boxPaths {
	dir := d.boxDir(id)
	mnt := filepath.Join(dir, "disk")
	return boxPaths{
		dir:        dir,
		disk:       filepath.Join(dir, "disk.img"),
		diskMnt:    mnt,
		upper:      filepath.Join(mnt, "upper"),
		work:       filepath.Join(mnt, "work"),
		run:        filepath.Join(mnt, "run"),
		initLog:    filepath.Join(mnt, "init.log"),
		rootfs:     filepath.Join(dir, "rootfs"),
		runtimeLog: filepath.Join(dir, "runtime.log"),
		config:     filepath.Join(dir, "config.json"),
	}
}

// idPattern is what a box id may look like: it names directories and is
// the hostname, so letters, digits, - and _ only (no dots or slashes),
// and no longer than a hostname label.
var idPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$`)

// checkID returns an errs.NotFound for an id no box can have.
func checkID(id string) error {
	if !idPattern.MatchString(id) {
		return errs.New(errs.NotFound, "box %q not found", id)
	}
	return nil
}

func notFound(id string) error { return errs.New(errs.NotFound, "box %s not found", id) }

func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found", name)
}
