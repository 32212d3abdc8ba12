package cli

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) devboxExecCommand() *cobra.Command {
	var fl execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] DEVBOX [--] COMMAND [ARG...]",
		Short: "Run a command in a devbox (starting it if need be); exits with its exit code",
		Long: `Run a command in a devbox, starting it first when it is stopped and
auto-start is on. The output comes when the command ends (at most
hogplane's batch cap per stream); exit codes are those of hog exec.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(commandArgs(args)) < 2 {
				return usageError{errors.New("hog devbox exec takes a DEVBOX and a COMMAND, such as: hog devbox exec web -- ls -l")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			args = commandArgs(args)
			req, err := fl.request(args[1:])
			if err != nil {
				return err
			}
			if !fl.noStdin && !isTerminal(a.stdin) {
				if req.Stdin, err = readStdin(a.stdin); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.ExecDevbox(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(a.stdout, res.Stdout); err != nil {
				return fmt.Errorf("write stdout: %w", err)
			}
			if _, err := io.WriteString(a.stderr, res.Stderr); err != nil {
				return fmt.Errorf("write stderr: %w", err)
			}
			if res.StdoutTruncated || res.StderrTruncated {
				fmt.Fprintln(a.stderr, "hog: the output was cut at hogplane's cap (see hog limits)")
			}
			code := res.ExitCode
			return exitCodeError{a.exitStatus(api.ExecEvent{ExitCode: &code, TimedOut: res.TimedOut}, req.TimeoutSeconds)}
		},
	}
	fl.add(cmd, "kill the command after this long, such as 30s (default: hogplane's)")
	return cmd
}

// readStdin reads all of stdin for a batch exec's request. The API carries
// batch stdin as a JSON string, so it must be text.
func readStdin(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if !utf8.Valid(b) {
		return "", hintError{
			err:  errors.New("stdin is not UTF-8 text, and a devbox exec takes only text as stdin"),
			hint: "copy binary input into the box with hog cp, and redirect from the file there",
		}
	}
	return string(b), nil
}
