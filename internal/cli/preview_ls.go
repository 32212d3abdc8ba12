package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) previewLsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               "ls BOX",
		Aliases:           []string{"list"},
		Short:             "List a box's preview tokens (without their secrets)",
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.ListPreviewTokens(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error {
				return previewTable(w, l.Items, time.Now())
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func previewTable(w io.Writer, ts []api.PreviewToken, now time.Time) error {
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		state := "expires in " + age(t.ExpiresAt.Sub(now))
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case !t.ExpiresAt.After(now):
			state = "expired"
		}
		rows = append(rows, []string{t.ID, fmt.Sprint(t.Port), timestamp(t.CreatedAt), state})
	}
	return table(w, []string{"ID", "PORT", "CREATED", "STATE"}, rows)
}
