package cli

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) boxGetCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               "get BOX",
		Aliases:           []string{"show", "inspect"},
		Short:             "Show a box",
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			b, err := c.GetBox(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, b, func(w io.Writer) error { return boxText(w, b, time.Now()) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
