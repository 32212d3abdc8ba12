package oci

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/PostHog/hogland/internal/runtime"
)

// boxStatus is what the host shows of one box.
type boxStatus struct {
	// exists is false when neither a box dir nor a container is there.
	exists bool
	state  runtime.State
	// pid is the init's host pid while it lives.
	pid int
}

// State reports the box's state. With runc it reads the runtime's
// state.json, /proc and the freezer, spawning nothing.
func (d *Driver) State(ctx context.Context, id string) (runtime.State, error) {
	if err := checkID(id); err != nil {
		return 0, err
	}
	st, err := d.status(ctx, id)
	if err != nil {
		return 0, err
	}
	if !st.exists {
		return 0, notFound(id)
	}
	return st.state, nil
}

// List returns every box with a box dir or a container under this
// driver's roots, sorted by id. Leftovers whose container is gone are
// StateStopped.
func (d *Driver) List(ctx context.Context) ([]runtime.Info, error) {
	ids := map[string]bool{}
	for _, dir := range []string{d.boxesDir(), d.runtimeRoot()} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && idPattern.MatchString(e.Name()) {
				ids[e.Name()] = true
			}
		}
	}
	var out []runtime.Info
	for id := range ids {
		st, err := d.status(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		if st.exists {
			out = append(out, runtime.Info{ID: id, State: st.state, Pid: st.pid})
		}
	}
	slices.SortFunc(out, func(a, b runtime.Info) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// status finds out what exists of box id and in which state it is.
func (d *Driver) status(ctx context.Context, id string) (boxStatus, error) {
	hasDir := exists(d.boxDir(id))
	hasCtr := exists(d.containerDir(id))
	if !hasDir && !hasCtr {
		return boxStatus{}, nil
	}
	st := boxStatus{exists: true, state: runtime.StateStopped}
	if !hasCtr {
		return st, nil
	}
	if d.cfg.Runtime == "runc" {
		if pid, start, err := readRuncState(d.containerDir(id)); err == nil {
			return d.liveStatus(id, pid, start)
		}
	}
	return d.askRuntime(ctx, id)
}

// liveStatus is the status of a container whose init had pid and start
// time start: stopped unless that process still lives.
func (d *Driver) liveStatus(id string, pid int, start uint64) (boxStatus, error) {
	st := boxStatus{exists: true, state: runtime.StateStopped}
	if !procAlive(pid, start) {
		return st, nil
	}
	st.pid = pid
	st.state = runtime.StateRunning
	if exists(filepath.Join(d.containerDir(id), "exec.fifo")) {
		st.state = runtime.StateCreated // created, never started
		return st, nil
	}
	frozen, err := d.cg.box(d.cgroupPath(id)).frozen()
	if err != nil {
		return st, fmt.Errorf("state %s: %w", id, err)
	}
	if frozen {
		st.state = runtime.StatePaused
	}
	return st, nil
}

// askRuntime gets the state from `<runtime> state`, for runtimes whose
// state files the driver does not read. A container the runtime does not
// know is stopped.
func (d *Driver) askRuntime(ctx context.Context, id string) (boxStatus, error) {
	st := boxStatus{exists: true, state: runtime.StateStopped}
	rs, err := d.runtimeState(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		d.log.Debug("runtime state failed; taking box as stopped", "box", id, "err", err)
		return st, nil
	}
	switch rs.Status {
	case "created":
		st.state = runtime.StateCreated
	case "running":
		st.state = runtime.StateRunning
	case "paused":
		st.state = runtime.StatePaused
	}
	if st.state != runtime.StateStopped {
		st.pid = rs.Pid
	}
	return st, nil
}

// readRuncState reads the init pid and its start time from runc's
// state.json in dir. The file also holds the whole container config
// (tens of kB); runc writes these fields first, so decoding stops early.
func readRuncState(dir string) (pid int, start uint64, err error) {
	f, err := os.Open(filepath.Join(dir, "state.json"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1024))
	if _, err := dec.Token(); err != nil { // {
		return 0, 0, err
	}
	var havePid, haveStart bool
	for dec.More() && !(havePid && haveStart) {
		key, err := dec.Token()
		if err != nil {
			return 0, 0, err
		}
		switch key {
		case "init_process_pid":
			err, havePid = dec.Decode(&pid), true
		case "init_process_start":
			err, haveStart = dec.Decode(&start), true
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if pid <= 0 {
		return 0, 0, errors.New("state.json has no init pid")
	}
	return pid, start, nil
}

// procAlive reports whether pid is a live (not zombie) process that
// started at start (clock ticks after boot, as in /proc/PID/stat), so a
// reused pid does not count.
func procAlive(pid int, start uint64) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Fields after the command, which is in parentheses and may hold
	// anything: state is field 3, starttime field 22.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return false
	}
	got, err := strconv.ParseUint(f[19], 10, 64)
	return err == nil && (start == 0 || got == start)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
