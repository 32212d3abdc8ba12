package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/PostHog/hogland/internal/runtime/oci"
)

// Runc runs the baseline containers: a trivial bundle over the image's
// root filesystem, with the runtime's own state in a private --root. The
// runtime is runc, or another with its command line (crun).
type Runc struct {
	Path   string
	Rootfs string
	root   string // runc --root
	dir    string // bundles
	prefix string // container ids and cgroups
	seq    atomic.Int64
}

// NewRunc prepares baselines with the OCI runtime named runtime (runc,
// crun) over rootfs (an image directory of the image cache, used
// read-only). Close removes what it made.
func NewRunc(runtime, rootfs string) (*Runc, error) {
	path, err := exec.LookPath(runtime)
	if err != nil {
		return nil, fmt.Errorf("%s baseline: %w", runtime, err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin", "true")); err != nil {
		return nil, fmt.Errorf("%s baseline: image %s has no /bin/true: %w", runtime, rootfs, err)
	}
	r := &Runc{Path: path, Rootfs: rootfs, prefix: "hogbench-" + randHex(3)}
	if r.root, err = os.MkdirTemp("", "hogbench-runc-root-"); err != nil {
		return nil, err
	}
	if r.dir, err = os.MkdirTemp("", "hogbench-runc-bundles-"); err != nil {
		os.RemoveAll(r.root)
		return nil, err
	}
	return r, nil
}

// Close removes the bundles and runc's state dir.
func (r *Runc) Close() {
	os.RemoveAll(r.dir)
	os.RemoveAll(r.root)
}

// SpecKind picks a baseline bundle.
type SpecKind int

const (
	// TrivialSpec is what `runc spec` writes (namespaces, the usual
	// mounts, a read-only root, no seccomp, no limits), running argv.
	TrivialSpec SpecKind = iota
	// SeccompSpec is TrivialSpec with the default seccomp profile that
	// boxes get (runc 1.1 compiles it on every start).
	SeccompSpec
	// BoxLikeSpec is what a hogland box's bundle has beyond TrivialSpec,
	// except disk, overlay and agent: the default seccomp profile,
	// Docker's capabilities and cgroup limits on memory, CPU and pids.
	BoxLikeSpec
)

// spec is the bundle of container id running args.
func (r *Runc) spec(id string, kind SpecKind, args []string) (*specs.Spec, error) {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	s := &specs.Spec{
		// 1.0.2, not this package's version: older runtimes (crun 1.8)
		// refuse versions they do not know, and nothing newer is used.
		Version:  "1.0.2",
		Root:     &specs.Root{Path: r.Rootfs, Readonly: true},
		Hostname: id,
		Process: &specs.Process{
			Args: args, Cwd: "/",
			Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "/" + id,
			Resources:   &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	if _, err := os.Stat("/proc/self/ns/cgroup"); err == nil {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	if kind == BoxLikeSpec {
		boxCaps := []string{
			"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
			"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
			"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
		}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: boxCaps, Effective: boxCaps, Permitted: boxCaps}
		pids, quota, period := int64(2048), int64(100000), uint64(100000)
		limit := int64(1 << 30)
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	}
	if kind != TrivialSpec {
		sc, err := oci.BoxSeccomp(s)
		if err != nil {
			return nil, fmt.Errorf("seccomp profile: %w", err)
		}
		s.Linux.Seccomp = sc
	}
	return s, nil
}

// nextID is a fresh container id (also its cgroup and hostname).
// nextID is safe for concurrent use: parallel runs must not share an id.
func (r *Runc) nextID() string {
	return fmt.Sprintf("%s-%d", r.prefix, r.seq.Add(1))
}

// bundle writes a bundle for a new container and returns its id and dir.
func (r *Runc) bundle(kind SpecKind, args []string) (id, dir string, err error) {
	id = r.nextID()
	s, err := r.spec(id, kind, args)
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(r.dir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", "", err
	}
	return id, dir, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600)
}

func (r *Runc) command(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, r.Path, append([]string{"--root", r.root}, args...)...)
}

// RunTrue times one `runc run` (foreground: create, start, wait, delete)
// of /bin/true in a new bundle of the given kind.
func (r *Runc) RunTrue(ctx context.Context, kind SpecKind) (time.Duration, error) {
	id, dir, err := r.bundle(kind, []string{"/bin/true"})
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	cmd := r.command(ctx, "run", "--bundle", dir, id)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s run: %w: %s", filepath.Base(r.Path), err, strings.TrimSpace(out.String()))
	}
	return took, nil
}

// StartSleeper starts a detached trivial container running sleep and
// returns its id; its cgroup is "/"+id. Remove it with Remove.
func (r *Runc) StartSleeper(ctx context.Context) (string, error) {
	id, dir, err := r.bundle(TrivialSpec, []string{"/bin/sleep", "3600"})
	if err != nil {
		return "", err
	}
	// The detached container inherits runc's stdio: give it a file, not
	// a pipe that would keep us waiting for the container's end.
	outPath := filepath.Join(dir, "output")
	f, err := os.Create(outPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	cmd := r.command(ctx, "run", "--detach", "--bundle", dir, id)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(outPath)
		return "", fmt.Errorf("runc run --detach: %w: %s", err, bytes.TrimSpace(out))
	}
	return id, nil
}

// Remove kills and deletes a detached container.
func (r *Runc) Remove(ctx context.Context, id string) error {
	out, err := r.command(ctx, "delete", "--force", id).CombinedOutput()
	os.RemoveAll(filepath.Join(r.dir, id))
	if err != nil {
		return fmt.Errorf("runc delete %s: %w: %s", id, err, strings.TrimSpace(string(out)))
	}
	return nil
}
