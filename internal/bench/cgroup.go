package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroupV2 is true when the host uses the unified hierarchy.
func cgroupV2() bool {
	_, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers"))
	return err == nil
}

func cgroupVersion() string {
	if cgroupV2() {
		return "v2"
	}
	return "v1"
}

// CgroupMem is a cgroup's memory use.
type CgroupMem struct {
	// Usage is memory.usage_in_bytes (v1) or memory.current (v2).
	Usage int64
	// Anon and File split it: total_rss and total_cache (v1), anon and
	// file (v2).
	Anon, File int64
}

// cgroupMemory reads the memory use of the cgroup at path (as in an OCI
// spec's cgroupsPath, e.g. /hogland/box-...).
func cgroupMemory(path string) (CgroupMem, error) {
	var m CgroupMem
	dir, usage, anon, file := filepath.Join(cgroupRoot, "memory", path), "memory.usage_in_bytes", "total_rss", "total_cache"
	if cgroupV2() {
		dir, usage, anon, file = filepath.Join(cgroupRoot, path), "memory.current", "anon", "file"
	}
	b, err := os.ReadFile(filepath.Join(dir, usage))
	if err != nil {
		return m, err
	}
	if m.Usage, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
		return m, fmt.Errorf("%s: %w", usage, err)
	}
	stat, err := readKV(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return m, err
	}
	m.Anon, m.File = stat[anon], stat[file]
	return m, nil
}

// readKV reads a file of "key value" lines.
func readKV(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// kibField is the "key: N kB" line of a /proc file (meminfo, status), in
// bytes.
func kibField(path, key string) (int64, error) {
	v, ok := fileField(path, key, ':')
	if !ok || v == "" {
		return 0, fmt.Errorf("no %s in %s", key, path)
	}
	kib, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
	return kib << 10, err
}

// memAvailable is the host's MemAvailable in bytes.
func memAvailable() (int64, error) { return kibField("/proc/meminfo", "MemAvailable") }

// processRSS is a process's resident set in bytes.
func processRSS(pid int) (int64, error) {
	return kibField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
}

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// processCPU is the CPU time a process and its reaped children used so
// far (utime, stime, cutime and cstime of /proc/PID/stat), to 10 ms.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime..cstime are fields 14-17.
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// cgroupCPU is the CPU time the processes of the cgroup at path used so
// far (cpuacct.usage on v1, cpu.stat usage_usec on v2).
func cgroupCPU(path string) (time.Duration, error) {
	if cgroupV2() {
		st, err := readKV(filepath.Join(cgroupRoot, path, "cpu.stat"))
		if err != nil {
			return 0, err
		}
		return time.Duration(st["usage_usec"]) * time.Microsecond, nil
	}
	b, err := os.ReadFile(filepath.Join(cgroupRoot, "cpuacct", path, "cpuacct.usage"))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(n), err
}

// childrenCPU is the CPU time of this process's reaped children so far.
func childrenCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
