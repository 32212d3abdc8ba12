package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) boxPauseCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               "pause BOX",
		Short:             "Freeze every process of a box (it keeps its memory)",
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := out.resolved(); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			b, err := c.PauseBox(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, b, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s %s\n", b.ID, b.Status)
				return err
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
