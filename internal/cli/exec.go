package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

// Exit codes of hog exec when the command did not choose one.
const (
	// exitKilledOnTimeout: --timeout killed the command with SIGKILL;
	// shells report that as 128+9.
	exitKilledOnTimeout = 137
	// exitKilled: a signal hogland does not name killed the command.
	exitKilled = 255
	// exitInterrupted: hog itself was interrupted (Ctrl-C), 128+SIGINT.
	exitInterrupted = 130
)

func (a *app) execCommand() *cobra.Command {
	var fl execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] BOX [--] COMMAND [ARG...]",
		Short: "Run a command in a box, streaming its output; exits with its exit code",
		Long: `Run a command in a box. Its stdout and stderr stream to hog's as they come
(a dropped connection resumes where it stopped), and hog exits with the
command's exit code. hog's own flags go before BOX; everything after BOX is
the command.

When stdin is not a terminal, hog streams it to the command as it comes
(any bytes, any size) and closes the command's stdin at its end; -n turns
this off.

Exit codes: the command's own (0-255); 137 when --timeout killed it (with
SIGKILL); 255 when another signal killed it; 130 when hog was interrupted
(the command goes on running in the box); 1 when hog failed (no such box,
bad token, ...) and 2 for a bad command line.`,
		Example: `  hog exec box-0123456789ab -- uname -a
  hog exec --timeout 30s -w /tmp box-0123456789ab -- sh -c 'make test'
  echo hello | hog exec box-0123456789ab tr a-z A-Z`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(commandArgs(args)) < 2 {
				return usageError{errors.New("hog exec takes a BOX and a COMMAND, such as: hog exec BOX -- ls -l")}
			}
			return nil
		},
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			args = commandArgs(args)
			req, err := fl.request(args[1:])
			if err != nil {
				return err
			}
			var stdin io.Reader
			if !fl.noStdin && !isTerminal(a.stdin) {
				stdin, req.StdinOpen = a.stdin, true
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.streamExec(cmd.Context(), c, args[0], req, stdin)
		},
	}
	fl.add(cmd, "kill the command after this long, such as 30s or 5m (default: no limit)")
	return cmd
}

// execFlags are the flags of hog exec and hog devbox exec.
type execFlags struct {
	timeout, workdir string
	env              []string
	noStdin          bool
}

func (fl *execFlags) add(cmd *cobra.Command, timeoutUsage string) {
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after BOX belong to the command
	f.StringVar(&fl.timeout, "timeout", "", timeoutUsage)
	f.StringVarP(&fl.workdir, "workdir", "w", "", "directory to run the command in")
	f.StringArrayVarP(&fl.env, "env", "e", nil, "environment variable KEY=VALUE (repeatable)")
	f.BoolVarP(&fl.noStdin, "no-stdin", "n", false, "do not read stdin")
}

// request is the request to run argv with the flags' settings.
func (fl *execFlags) request(argv []string) (api.ExecRequest, error) {
	req := api.ExecRequest{Argv: argv, Workdir: fl.workdir}
	var err error
	if req.Env, err = parseKV("env", fl.env); err != nil {
		return req, err
	}
	if fl.timeout != "" {
		if req.TimeoutSeconds, err = parseTimeout(fl.timeout); err != nil {
			return req, err
		}
	}
	return req, nil
}

// commandArgs drops the "--" between BOX and the command.
func commandArgs(args []string) []string {
	if len(args) >= 2 && args[1] == "--" {
		return append([]string{args[0]}, args[2:]...)
	}
	return args
}

func parseTimeout(v string) (float64, error) {
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		return n, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Errorf("--timeout %q is not a duration such as 30s or 5m", v)}
	}
	return d.Seconds(), nil
}

// streamExec runs req in box, copying its output as it comes (and stdin,
// when not nil, to the command), and ends with an exitCodeError carrying
// the command's exit code.
func (a *app) streamExec(ctx context.Context, c *client.Client, box string, req api.ExecRequest, stdin io.Reader) error {
	s, err := c.ExecStream(ctx, box, req)
	if err != nil {
		return err
	}
	defer s.Close()
	if stdin != nil {
		go a.feedStdin(ctx, c, box, s.ID(), stdin)
	}
	for {
		ev, err := s.Next()
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(a.stderr, "hog: interrupted; the command goes on running in %s (exec %s)\n", box, s.ID())
			return exitCodeError{exitInterrupted}
		case errors.Is(err, io.EOF):
			return fmt.Errorf("exec %s: the stream ended without an exit status", s.ID())
		case err != nil:
			return err
		}
		switch ev.Kind {
		case api.EventStdout:
			if _, err := io.WriteString(a.stdout, ev.Data); err != nil {
				return fmt.Errorf("write stdout: %w", err)
			}
		case api.EventStderr:
			if _, err := io.WriteString(a.stderr, ev.Data); err != nil {
				return fmt.Errorf("write stderr: %w", err)
			}
		case api.EventExit:
			return exitCodeError{a.exitStatus(ev, req.TimeoutSeconds)}
		}
	}
}

// exitStatus is hog's exit code for the command's exit event.
func (a *app) exitStatus(ev api.ExecEvent, timeout float64) int {
	code := -1
	if ev.ExitCode != nil {
		code = *ev.ExitCode
	}
	switch {
	case code >= 0 && code <= 255:
		return code
	case ev.TimedOut:
		fmt.Fprintf(a.stderr, "hog: the command timed out after %s and was killed\n", time.Duration(timeout*float64(time.Second)))
		return exitKilledOnTimeout
	case code < 0:
		fmt.Fprintln(a.stderr, "hog: the command was killed by a signal")
	}
	return exitKilled
}

// feedStdin streams stdin to a running exec and closes its stdin at the
// end. A command that exits before reading everything (head -1) closes
// its stdin first: that is no error.
func (a *app) feedStdin(ctx context.Context, c *client.Client, box, execID string, stdin io.Reader) {
	err := c.WriteExecStdin(ctx, box, execID, stdin, false)
	if err != nil && !client.IsConflict(err) && ctx.Err() == nil {
		fmt.Fprintf(a.stderr, "hog: stdin: %v\n", err)
	}
}
