package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/PostHog/hogland/client"
)

func (a *app) shellCommand() *cobra.Command {
	var (
		workdir string
		env     []string
	)
	cmd := &cobra.Command{
		Use:   "shell [flags] BOX [-- COMMAND [ARG...]]",
		Short: "Open an interactive terminal in a box (a shell unless a command is given)",
		Long: `Open an interactive terminal in a box: bash (or sh) unless a command is
given. On a terminal hog switches it to raw mode and passes window size
changes on. hog exits with the process's exit code (255 when a signal
killed it); leaving early (closing the terminal) kills the processes of the
session in the box.`,
		Example: `  hog shell box-0123456789ab
  hog shell -w /srv box-0123456789ab -- python3`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(commandArgs(args)) < 1 {
				return usageError{errors.New("hog shell takes a BOX, such as: hog shell box-0123456789ab")}
			}
			return nil
		},
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			args = commandArgs(args)
			o := client.TerminalOptions{Argv: args[1:], Env: env, Workdir: workdir}
			if _, err := parseKV("env", env); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.runTerminal(cmd.Context(), c, args[0], o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVarP(&workdir, "workdir", "w", "", "directory to start in")
	f.StringArrayVarP(&env, "env", "e", nil, "environment variable KEY=VALUE (repeatable)")
	return cmd
}

// runTerminal connects hog's stdin and stdout to a terminal in the box
// until its process exits.
func (a *app) runTerminal(ctx context.Context, c *client.Client, box string, o client.TerminalOptions) error {
	inFd, inTTY := terminalFd(a.stdin)
	outFd, outTTY := terminalFd(a.stdout)
	if outTTY {
		if w, h, err := term.GetSize(outFd); err == nil {
			o.Cols, o.Rows = w, h
		}
	}
	t, err := c.Terminal(ctx, box, o)
	if err != nil {
		return err
	}
	defer t.Close()
	if inTTY {
		old, err := term.MakeRaw(inFd)
		if err != nil {
			return fmt.Errorf("put the terminal in raw mode: %w", err)
		}
		defer func() {
			if err := term.Restore(inFd, old); err != nil {
				fmt.Fprintf(a.stderr, "hog: restore the terminal: %v (run reset)\n", err)
			}
		}()
	}
	if outTTY {
		stop := a.forwardResizes(ctx, t, outFd)
		defer stop()
	}
	go func() {
		// Keystrokes in. A failed write means the socket ended, which the
		// copy of the output below reports; the read of stdin may block
		// until hog exits.
		_, _ = io.Copy(t, a.stdin)
	}()
	if _, err := io.Copy(a.stdout, t); err != nil {
		return err
	}
	code, ok := t.ExitCode()
	if !ok {
		return errors.New("the terminal closed without an exit status")
	}
	if code < 0 || code > 255 {
		code = exitKilled
	}
	return exitCodeError{code}
}

// forwardResizes passes window size changes (SIGWINCH) on to t.
func (a *app) forwardResizes(ctx context.Context, t *client.Terminal, fd int) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				if w, h, err := term.GetSize(fd); err == nil {
					if err := t.Resize(w, h); err != nil {
						return
					}
				}
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
