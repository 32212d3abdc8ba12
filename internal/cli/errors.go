package cli

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/PostHog/hogland/client"
)

// printError tells the user what went wrong on stderr: for an answer of
// hogplane its title, detail and request id, and a hint where one helps.
func (a *app) printError(err error) {
	var he hintError
	if errors.As(err, &he) {
		a.printError(he.err)
		fmt.Fprintf(a.stderr, "Hint: %s\n", he.hint)
		return
	}
	var apiErr *client.Error
	var connErr *client.ConnError
	switch {
	case errors.As(err, &apiErr):
		p := apiErr.Problem
		if p.Detail != "" {
			fmt.Fprintf(a.stderr, "Error: %s: %s\n", p.Title, p.Detail)
		} else {
			fmt.Fprintf(a.stderr, "Error: %s\n", p.Title)
		}
		if apiErr.RequestID != "" {
			fmt.Fprintf(a.stderr, "Request ID: %s\n", apiErr.RequestID)
		}
		if client.IsUnauthenticated(err) {
			fmt.Fprintln(a.stderr, "Hint: hogplane did not accept the token; log in again with: hog login --host URL --token TOKEN")
		}
	case errors.As(err, &connErr):
		fmt.Fprintf(a.stderr, "Error: cannot reach hogplane at %s: %v\n", connErr.Host, connErr.Err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintln(a.stderr, "Hint: is hogplane running there? Start it with: hogplane serve, or pick another host with --host")
		}
	default:
		fmt.Fprintf(a.stderr, "Error: %v\n", err)
	}
}

// hintError is an error with advice on what to do about it.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() + " (" + e.hint + ")" }
func (e hintError) Unwrap() error { return e.err }
