// Package cli is the hog command: a thin shell over the public client
// package, one file per verb. Run is its entry point.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/PostHog/hogland/client"
)

// Version is hog's version, stamped at build time with
// -ldflags "-X github.com/PostHog/hogland/internal/cli.Version=v1.2.3".
var Version = "dev"

// Exit codes of hog itself; exec exits with the command's code instead.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Run runs hog with args (without the program name), reading stdin from
// os.Stdin and the environment from os.Getenv, and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return a.run(ctx, args)
}

// app is one run of hog: its streams, environment and global flags.
// Tests make one with buffers in place of the streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// httpClient, when set, is the client's HTTP client.
	httpClient *http.Client

	// Global flags.
	host, token, profile string
}

// exitCodeError ends hog with a code and no message (exec uses it to exit
// with the command's code).
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	a.printError(err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitError
}

// isCobraUsage tells cobra's own unknown-command error, a plain error,
// from the others.
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hog",
		Short: "Run and use hogland sandboxes (hogboxes)",
		Long: `hog talks to a hogplane: create boxes, run commands in them, copy files in
and out, and manage tokens.

Start with: hog login --host http://127.0.0.1:8470 --token tok_...`,
		Version:           Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.SetVersionTemplate("hog {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.host, "host", "", "hogplane URL (default: $HOG_HOST, then the profile's)")
	pf.StringVar(&a.token, "token", "", "API token (default: $HOG_TOKEN, then the profile's)")
	pf.StringVar(&a.profile, "profile", "", "profile of the config file to use (default: its current_profile)")
	root.AddGroup(&cobra.Group{ID: "boxes", Title: "Boxes:"}, &cobra.Group{ID: "account", Title: "Account and admin:"})
	for _, c := range []*cobra.Command{a.boxCommand(), a.execCommand(), a.shellCommand(), a.cpCommand(), a.portForwardCommand(), a.urlCommand(), a.previewCommand(), a.snapshotCommand(), a.devboxCommand()} {
		c.GroupID = "boxes"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{a.loginCommand(), a.profileCommand(), a.meCommand(), a.limitsCommand(), a.tokenCommand(), a.principalCommand()} {
		c.GroupID = "account"
		root.AddCommand(c)
	}
	root.AddCommand(a.versionCommand(), a.completionCommand())
	return root
}

// target is the hogplane to call and the credential to call it with.
type target struct {
	host, token string
}

// resolve finds the host and token. Flags win, then $HOG_HOST and
// $HOG_TOKEN, then the profile (--profile, or the file's current one).
// An explicit --profile wins over the environment. A profile's token is
// only sent to that profile's host.
func (a *app) resolve() (target, error) {
	path, err := configPath(a.getenv)
	if err != nil {
		return target{}, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return target{}, err
	}
	name := a.profile
	if name == "" {
		name = cfg.current()
	}
	prof, ok := cfg.Profiles[name]
	if a.profile != "" && !ok {
		return target{}, cfg.noProfile(path, name)
	}
	t := target{host: a.host, token: a.token}
	if a.profile == "" {
		t.host = firstNonEmpty(t.host, a.getenv("HOG_HOST"))
		t.token = firstNonEmpty(t.token, a.getenv("HOG_TOKEN"))
	}
	t.host = firstNonEmpty(t.host, prof.Host)
	if t.host == "" {
		return target{}, errors.New("no hogplane to talk to: log in with: hog login --host URL --token TOKEN (or set HOG_HOST and HOG_TOKEN)")
	}
	if t.token == "" && ok && sameHost(prof.Host, t.host) {
		t.token, err = prof.token(filepath.Dir(path), a.getenv("HOME"))
		if err != nil {
			return target{}, fmt.Errorf("profile %q: %w", name, err)
		}
	}
	if t.token == "" {
		return target{}, fmt.Errorf("no token for %s: log in with: hog login --host %s (or set HOG_TOKEN)", t.host, t.host)
	}
	return t, nil
}

func sameHost(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// outputClient checks the --output flags, so that a bad one fails before
// any call is made, and returns the API client.
func (a *app) outputClient(out output) (*client.Client, error) {
	if _, err := out.resolved(); err != nil {
		return nil, err
	}
	return a.client()
}

// client makes a client of the resolved hogplane.
func (a *app) client() (*client.Client, error) {
	t, err := a.resolve()
	if err != nil {
		return nil, err
	}
	return a.clientFor(t)
}

func (a *app) clientFor(t target) (*client.Client, error) {
	return client.New(client.Options{
		Host:       t.host,
		Token:      t.token,
		HTTPClient: a.httpClient,
		UserAgent:  userAgent(),
	})
}

func userAgent() string {
	return fmt.Sprintf("hog/%s (%s/%s)", Version, runtime.GOOS, runtime.GOARCH)
}

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	_, ok := terminalFd(v)
	return ok
}

// terminalFd is the file descriptor of v when v is a terminal.
func terminalFd(v any) (int, bool) {
	f, ok := v.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}
