package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) loginCommand() *cobra.Command {
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "login --host URL --token TOKEN [--profile NAME]",
		Short: "Check a token and save it, with its host, as a profile",
		Long: `Check a token against hogplane (GET /v1/me) and save the host and token as a
profile of the config file ($XDG_CONFIG_HOME/hogland/config.json, or
~/.config/hogland/config.json; mode 0600), which becomes the current profile.

--token - reads the token from stdin; without --token, hog asks for it when
stdin is a terminal. --token-file saves the path of a file that holds the
token instead of the token itself.`,
		Example: `  hog login --host http://127.0.0.1:8470 --token "$(cat /var/lib/hogland/admin.token)"
  cat token.txt | hog login --host https://hog.example.com --token - --profile prod`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(a.getenv)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			name := firstNonEmpty(a.profile, defaultProfile)
			prof := cfg.Profiles[name]
			host := strings.TrimSuffix(firstNonEmpty(a.host, a.getenv("HOG_HOST"), prof.Host), "/")
			if host == "" {
				return usageError{errors.New("hog login needs --host, such as --host http://127.0.0.1:8470")}
			}
			tok, err := a.loginToken(tokenFile)
			if err != nil {
				return err
			}
			c, err := a.clientFor(target{host: host, token: tok})
			if err != nil {
				return usageError{err}
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			prof = profile{Host: host, Token: tok, extra: prof.extra}
			if tokenFile != "" {
				abs, err := filepath.Abs(tokenFile)
				if err != nil {
					return err
				}
				prof.Token, prof.TokenFile = "", abs
			}
			cfg.Profiles[name] = prof
			cfg.CurrentProfile = name
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			role := me.Principal.Kind
			if me.Principal.Admin {
				role += ", admin"
			}
			fmt.Fprintf(a.stdout, "Logged in to %s as %s (%s, %s).\n", host, me.Principal.Name, me.Principal.ID, role)
			fmt.Fprintf(a.stdout, "Saved profile %q in %s; it is the current profile.\n", name, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "save the path of this file, which holds the token, instead of the token")
	return cmd
}

// loginToken finds the token to log in with: --token (- for stdin),
// --token-file, $HOG_TOKEN, or a prompt on a terminal.
func (a *app) loginToken(tokenFile string) (string, error) {
	var tok string
	switch {
	case a.token != "" && tokenFile != "":
		return "", usageError{errors.New("give --token or --token-file, not both")}
	case a.token == "-":
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return "", fmt.Errorf("read token from stdin: %w", err)
		}
		tok = string(b)
	case a.token != "":
		tok = a.token
	case tokenFile != "":
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("read --token-file: %w", err)
		}
		tok = string(b)
	case a.getenv("HOG_TOKEN") != "":
		tok = a.getenv("HOG_TOKEN")
	case isTerminal(a.stdin):
		fmt.Fprint(a.stderr, "Token: ")
		b, err := term.ReadPassword(int(a.stdin.(*os.File).Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		tok = string(b)
	default:
		return "", usageError{errors.New("hog login needs --token TOKEN, or --token - to read it from stdin")}
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", usageError{errors.New("the token is empty")}
	}
	return tok, nil
}
