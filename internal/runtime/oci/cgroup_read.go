package oci

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/PostHog/hogland/internal/runtime"
)

// unlimited is the threshold above which a v1 memory limit means none.
const unlimited = int64(1) << 62

// stats reads the box's CPU, memory, OOM-kill and task counts. A
// controller file that is missing (a cgroup already removed) reads as 0.
// Memory is the working set: usage less inactive file cache, as docker
// stats reports it.
func (b boxCgroup) stats() (runtime.Stats, error) {
	var s runtime.Stats
	var err error
	if b.c.v2 {
		err = b.statsV2(&s)
	} else {
		err = b.statsV1(&s)
	}
	if s.MemoryLimit >= unlimited {
		s.MemoryLimit = 0
	}
	return s, err
}

func (b boxCgroup) statsV1(s *runtime.Stats) error {
	mem := b.dir("memory")
	ns, err1 := readInt(filepath.Join(b.dir("cpuacct"), "cpuacct.usage"))
	usage, err2 := readInt(filepath.Join(mem, "memory.usage_in_bytes"))
	limit, err3 := readInt(filepath.Join(mem, "memory.limit_in_bytes"))
	inactive, err4 := readKey(filepath.Join(mem, "memory.stat"), "total_inactive_file")
	ooms, err5 := readKey(filepath.Join(mem, "memory.oom_control"), "oom_kill")
	pids, err6 := readInt(filepath.Join(b.dir("pids"), "pids.current"))
	s.CPUUsage = time.Duration(ns)
	s.MemoryBytes = max(usage-inactive, 0)
	s.MemoryLimit, s.OOMKills, s.Pids = limit, ooms, pids
	return errors.Join(err1, err2, err3, err4, err5, err6)
}

func (b boxCgroup) statsV2(s *runtime.Stats) error {
	dir := b.dir("")
	usec, err1 := readKey(filepath.Join(dir, "cpu.stat"), "usage_usec")
	usage, err2 := readInt(filepath.Join(dir, "memory.current"))
	limit, err3 := readInt(filepath.Join(dir, "memory.max"))
	inactive, err4 := readKey(filepath.Join(dir, "memory.stat"), "inactive_file")
	ooms, err5 := readKey(filepath.Join(dir, "memory.events"), "oom_kill")
	pids, err6 := readInt(filepath.Join(dir, "pids.current"))
	s.CPUUsage = time.Duration(usec) * time.Microsecond
	s.MemoryBytes = max(usage-inactive, 0)
	s.MemoryLimit, s.OOMKills, s.Pids = limit, ooms, pids
	return errors.Join(err1, err2, err3, err4, err5, err6)
}

// procs lists the pids of every process in the box's cgroup.
func (b boxCgroup) procs() ([]int, error) {
	dir := b.procsDir()
	if dir == "" {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for f := range strings.FieldsSeq(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out, nil
}

// readInt reads a file holding one integer; "max" is unlimited, and a
// missing file is 0.
func readInt(p string) (int64, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v := strings.TrimSpace(string(data))
	if v == "max" {
		return unlimited, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// readKey reads the value of key in a flat-keyed file ("key value" lines);
// a missing file or key is 0.
func readKey(p, key string) (int64, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, sc.Err()
}
