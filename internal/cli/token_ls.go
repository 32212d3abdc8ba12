package cli

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) tokenLsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "ls PRINCIPAL_ID",
		Aliases: []string{"list"},
		Short:   "List a principal's API tokens (never their secrets)",
		Args:    exactArgs("PRINCIPAL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.ListTokens(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error { return tokenTable(w, l.Items, time.Now()) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func tokenTable(w io.Writer, ts []api.Token, now time.Time) error {
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		last := "never"
		if t.LastUsedAt != nil {
			last = age(now.Sub(*t.LastUsedAt)) + " ago"
		}
		state := "active"
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
			state = "expired"
		case t.ExpiresAt != nil:
			state = "expires in " + age(t.ExpiresAt.Sub(now))
		}
		rows = append(rows, []string{t.ID, orDash(t.Name), timestamp(t.CreatedAt), last, state})
	}
	return table(w, []string{"ID", "NAME", "CREATED", "LAST USED", "STATE"}, rows)
}
