package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func (a *app) snapshotGetCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "get SNAPSHOT",
		Short: "Show a snapshot",
		Args:  exactArgs("SNAPSHOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			s, err := c.GetSnapshot(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, s, func(w io.Writer) error { return snapshotText(w, s) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
