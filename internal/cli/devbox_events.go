package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) devboxEventsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "events DEVBOX",
		Aliases: []string{"history"},
		Short:   "Show a devbox's history (created, started, auto_stopped, ...)",
		Args:    exactArgs("DEVBOX"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.DevboxEvents(cmd.Context(), args[0], 0)
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error {
				rows := make([][]string, 0, len(l.Items))
				for _, e := range l.Items {
					rows = append(rows, []string{fmt.Sprint(e.Seq), timestamp(e.At), e.Type, orDash(e.Status), orDash(e.BoxID), orDash(e.Detail)})
				}
				return table(w, []string{"SEQ", "AT", "TYPE", "STATUS", "BOX", "DETAIL"}, rows)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
