package panion

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// childMode is the hidden first argument of the agent binary that makes
// it a trampoline: `hogpanion __child PATH ARGV...` resets the process's
// oom_score_adj to 0, then execs PATH with ARGV and the environment it got.
//
// The agent lowers its own oom_score_adj to -1000 so the kernel's OOM
// killer picks the user's processes, never the agent. Children inherit the
// value, and writing /proc/PID/oom_score_adj after they started leaves a
// window in which they may fork before the write lands; resetting it in
// the child itself, before the user's program runs, leaves none.
//
// The trampoline reports an exec failure back over fd 3 (a pipe whose
// write end is close-on-exec), so a program that cannot be run is a start
// error of the agent, exactly as without the trampoline.
const childMode = "__child"

// statusFD is the trampoline's end of the start-status pipe.
const statusFD = 3

// launch starts c, through the trampoline childExe when it is set.
func launch(c *exec.Cmd, childExe string) error {
	if childExe == "" {
		return c.Start()
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("status pipe: %w", err)
	}
	defer sr.Close()
	path := c.Path
	c.Path = childExe
	c.Args = append([]string{"hogpanion", childMode, path}, c.Args...)
	c.ExtraFiles = []*os.File{sw}
	err = c.Start()
	sw.Close()
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(sr, 64))
	if len(msg) == 0 {
		return nil // EOF without a word: the exec succeeded
	}
	_ = c.Wait()
	n, _ := strconv.Atoi(strings.TrimSpace(string(msg)))
	if n <= 0 {
		n = int(syscall.EIO)
	}
	return &os.PathError{Op: "exec", Path: path, Err: syscall.Errno(n)}
}

// runChild is the trampoline; it returns only when the exec failed.
func runChild(args []string, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "usage: hogpanion __child PATH ARGV0 [ARG...]")
		return 2
	}
	// Raising the value needs no privilege; failure only means there is
	// no /proc, and then there is nothing to reset either.
	_ = os.WriteFile("/proc/self/oom_score_adj", []byte("0\n"), 0)
	syscall.CloseOnExec(statusFD)
	err := syscall.Exec(args[0], args[1:], os.Environ())
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.EIO
	}
	status := os.NewFile(statusFD, "status")
	if status != nil {
		fmt.Fprintf(status, "%d", int(errno))
	}
	return 127
}
