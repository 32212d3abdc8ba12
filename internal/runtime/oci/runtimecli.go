package oci

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// runtimeCmd makes an invocation of the OCI runtime with the driver's
// root and global flags before the subcommand args.
func (d *Driver) runtimeCmd(ctx context.Context, global []string, args ...string) *exec.Cmd {
	all := append([]string{"--root", d.runtimeRoot()}, global...)
	all = append(all, d.cfg.RuntimeArgs...)
	all = append(all, args...)
	return exec.CommandContext(ctx, d.cfg.RuntimePath, all...)
}

// runtimeExec runs a runtime subcommand and returns its stdout; its stderr
// ends up in the error.
func (d *Driver) runtimeExec(ctx context.Context, args ...string) ([]byte, error) {
	cmd := d.runtimeCmd(ctx, nil, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", d.cfg.Runtime, args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// runtimeRun starts box id from its bundle with `run --detach`: one
// invocation instead of create and start. The init's stdout and stderr go
// to initLog; the runtime's own log to the box's runtime.log.
func (d *Driver) runtimeRun(ctx context.Context, id string, p boxPaths) error {
	logf, err := os.OpenFile(p.initLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	global := []string{"--log", p.runtimeLog, "--log-format", "json"}
	cmd := d.runtimeCmd(ctx, global, "run", "--detach", "--bundle", p.dir, id)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		if msg := lastLogError(p.runtimeLog); msg != "" {
			return fmt.Errorf("%s run: %w: %s", d.cfg.Runtime, err, msg)
		}
		return fmt.Errorf("%s run: %w", d.cfg.Runtime, err)
	}
	return nil
}

// lastLogError is the message of the last error in a JSON runtime log.
func lastLogError(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var msg string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Level == "error" {
			msg = line.Msg
		}
	}
	return msg
}

// ociState is the part of `<runtime> state` output the driver uses.
type ociState struct {
	Status string `json:"status"`
	Pid    int    `json:"pid"`
}

// runtimeState asks the runtime for the state of container id.
func (d *Driver) runtimeState(ctx context.Context, id string) (ociState, error) {
	var st ociState
	out, err := d.runtimeExec(ctx, "state", id)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("%s state: %w", d.cfg.Runtime, err)
	}
	return st, nil
}
