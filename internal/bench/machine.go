package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Machine describes where the bench ran.
type Machine struct {
	NProc       int    `json:"nproc"`
	CPUModel    string `json:"cpu_model"`
	MemTotalMiB int64  `json:"mem_total_mib"`
	Kernel      string `json:"kernel"`
	OS          string `json:"os"`
	Date        string `json:"date"`
	GoVersion   string `json:"go_version"`
	// Runtime is the OCI runtime's version line, RuntimeDetail the rest
	// of its --version output (commit, spec, libseccomp).
	Runtime       string `json:"runtime"`
	RuntimeDetail string `json:"runtime_detail"`
	Hogplane      string `json:"hogplane"`
	Cgroup        string `json:"cgroup"`
	// WorkFS is the filesystem of the data dir (and the host file
	// baseline).
	WorkFS string `json:"work_fs"`
	// LoadAvg is /proc/loadavg at the start: the machine is shared.
	LoadAvg string `json:"loadavg"`
}

func (m Machine) rows() [][2]string {
	return [][2]string{
		{"date", m.Date},
		{"nproc", strconv.Itoa(m.NProc)},
		{"cpu", m.CPUModel},
		{"memory", humanMiB(float64(m.MemTotalMiB))},
		{"kernel", m.Kernel},
		{"os", m.OS},
		{"go", m.GoVersion},
		{"OCI runtime", m.Runtime + " (" + m.RuntimeDetail + ")"},
		{"hogplane", m.Hogplane},
		{"cgroup", m.Cgroup},
		{"data dir filesystem", m.WorkFS},
		{"load average at start", m.LoadAvg},
	}
}

// probeMachine gathers the machine info; what cannot be read is left
// empty.
func probeMachine(ctx context.Context, runc, hogplane, workDir string) Machine {
	m := Machine{
		NProc:     runtime.NumCPU(),
		Date:      time.Now().UTC().Format(time.RFC3339),
		GoVersion: runtime.Version(),
		Cgroup:    cgroupVersion(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if v, ok := fileField("/proc/cpuinfo", "model name", ':'); ok {
		m.CPUModel = v
	}
	if b, err := kibField("/proc/meminfo", "MemTotal"); err == nil {
		m.MemTotalMiB = b >> 20
	}
	if v, ok := fileField("/etc/os-release", "PRETTY_NAME", '='); ok {
		m.OS = strings.Trim(v, `"`)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.CommandContext(ctx, runc, "--version").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		m.Runtime = lines[0]
		m.RuntimeDetail = strings.Join(lines[1:], "; ")
	}
	if out, err := exec.CommandContext(ctx, hogplane, "version").Output(); err == nil {
		m.Hogplane = strings.TrimSpace(string(out))
	}
	m.WorkFS = fsType(workDir)
	return m
}

// fileField is the value after sep of the first line of path whose key
// is key.
func fileField(path, key string, sep byte) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), string(sep))
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func fsType(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return ""
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	}
	return fmt.Sprintf("0x%x", st.Type)
}
