package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) boxEventsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               "events BOX",
		Aliases:           []string{"history"},
		Short:             "Show a box's lifecycle history (created, paused, oom, destroyed, ...)",
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.BoxEvents(cmd.Context(), args[0], 0)
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error { return eventTable(w, l.Items) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func eventTable(w io.Writer, evs []api.BoxEvent) error {
	rows := make([][]string, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, []string{fmt.Sprint(e.Seq), timestamp(e.At), e.Type, orDash(e.Status), orDash(e.Reason), orDash(e.Detail)})
	}
	return table(w, []string{"SEQ", "AT", "TYPE", "STATUS", "REASON", "DETAIL"}, rows)
}
