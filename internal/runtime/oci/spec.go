package oci

import (
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/PostHog/hogland/internal/runtime"
)

// In-box paths of the agent.
const (
	agentPath   = "/.hogland/bin/hogpanion"
	agentRunDir = "/.hogland/run"
	agentListen = "unix:" + agentRunDir + "/agent.sock"
)

const (
	cpuPeriod   = 100000
	defaultPids = 1024
	defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// defaultCaps is Docker's default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// maskedPaths and readonlyPaths are Docker's defaults.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// bundleSpec is the OCI runtime spec of a box. runDir is the host
// directory mounted at /.hogland/run.
func (d *Driver) bundleSpec(spec runtime.Spec, runDir string) (*specs.Spec, error) {
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: spec.ID,
		Process:  boxProcess(spec),
		Mounts:   boxMounts(spec.AgentPath, runDir),
		Linux: &specs.Linux{
			Namespaces:    boxNamespaces(),
			CgroupsPath:   d.cgroupPath(spec.ID),
			Resources:     boxResources(spec),
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}
	sc, err := BoxSeccomp(s)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	s.Linux.Seccomp = sc
	return s, nil
}

// BoxSeccomp is the seccomp profile of every box: Docker's default profile
// (moby/profiles) for s, restricted to the host's native system call ABI.
// Boxes run native programs only: a system call through a compat ABI
// (i386's int 0x80 or x32 on amd64, 32-bit ARM on arm64) matches no
// architecture of the filter and is refused by the kernel, which also
// shuts out the compat layer's own attack surface. The filter is then a
// third the size, and libseccomp compiles it in a third of the time on
// every `runc run` (about 27 ms of a 72 ms start here).
func BoxSeccomp(s *specs.Spec) (*specs.LinuxSeccomp, error) {
	sc, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		return nil, err
	}
	if native, ok := nativeArch[goruntime.GOARCH]; ok && slices.Contains(sc.Architectures, native) {
		sc.Architectures = []specs.Arch{native}
	}
	return sc, nil
}

// nativeArch is the seccomp architecture of each Go architecture boxes
// may run on.
var nativeArch = map[string]specs.Arch{
	"amd64": specs.ArchX86_64, "arm64": specs.ArchAARCH64, "ppc64le": specs.ArchPPC64LE,
	"s390x": specs.ArchS390X, "riscv64": specs.ArchRISCV64,
}

// agentOOMScoreAdj keeps the kernel's OOM killer off the agent: the box
// cannot lower it itself (no CAP_SYS_RESOURCE), so the runtime sets it, and
// the agent starts every user process at 0. A host that lacks
// CAP_SYS_RESOURCE itself cannot lower it either; there it stays 0.
const agentOOMScoreAdj = -998

func boxProcess(spec runtime.Spec) *specs.Process {
	var adj *int
	if hostCanLowerOOMScore() {
		v := agentOOMScoreAdj
		adj = &v
	}
	return &specs.Process{
		OOMScoreAdj: adj,
		Args:        []string{agentPath, "init", "--listen", agentListen},
		Env:         boxEnv(spec),
		Cwd:         "/",
		Capabilities: &specs.LinuxCapabilities{
			Bounding:  defaultCaps,
			Effective: defaultCaps,
			Permitted: defaultCaps,
		},
		Rlimits:         []specs.POSIXRlimit{nofileLimit()},
		NoNewPrivileges: true,
	}
}

// nofileLimit is the box's open files limit: soft 1024, hard 524288 (as
// systemd gives services), but no more than this process's own hard
// limit, which the runtime cannot exceed.
func nofileLimit() specs.POSIXRlimit {
	hard := uint64(524288)
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Max < hard {
		hard = rl.Max
	}
	return specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: hard, Soft: min(1024, hard)}
}

// boxEnv is spec.Env with PATH, HOME and HOSTNAME added where missing.
func boxEnv(spec runtime.Spec) []string {
	env := append([]string(nil), spec.Env...)
	has := func(key string) bool {
		for _, kv := range env {
			if strings.HasPrefix(kv, key+"=") {
				return true
			}
		}
		return false
	}
	for _, kv := range []string{"PATH=" + defaultPATH, "HOME=/root", "HOSTNAME=" + spec.ID} {
		key, _, _ := strings.Cut(kv, "=")
		if !has(key) {
			env = append(env, kv)
		}
	}
	return env
}

func boxMounts(agent, runDir string) []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		{Destination: agentPath, Type: "bind", Source: agent, Options: []string{"bind", "ro", "nosuid", "nodev"}},
		{Destination: agentRunDir, Type: "bind", Source: runDir, Options: []string{"bind", "rw", "nosuid", "nodev", "noexec"}},
	}
}

// boxNamespaces are new pid, network (loopback only: the runtime brings
// lo up), ipc, uts and mount namespaces, and a cgroup namespace where the
// kernel has them.
func boxNamespaces() []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace},
		{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
	}
	if _, err := os.Stat("/proc/self/ns/cgroup"); err == nil {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return ns
}

// boxResources caps CPU (a CFS quota of CPUs whole CPUs; none if 0),
// memory (MemoryMiB with no swap beyond it; none if 0) and tasks (Pids,
// default 1024), and allows only the default devices.
func boxResources(spec runtime.Spec) *specs.LinuxResources {
	pids := spec.Pids
	if pids <= 0 {
		pids = defaultPids
	}
	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Pids:    &specs.LinuxPids{Limit: &pids},
	}
	if spec.CPUs > 0 {
		quota, period := spec.CPUs*cpuPeriod, uint64(cpuPeriod)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if spec.MemoryMiB > 0 {
		limit := spec.MemoryMiB << 20
		swap := limit // memory+swap: no swap beyond the limit
		r.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
	}
	return r
}

// capSysResource is CAP_SYS_RESOURCE's bit in the capability sets.
const capSysResource = 24

// hostCanLowerOOMScore reports whether this process may set a negative
// oom_score_adj, which needs CAP_SYS_RESOURCE.
var hostCanLowerOOMScore = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<capSysResource) != 0
		}
	}
	return false
})
