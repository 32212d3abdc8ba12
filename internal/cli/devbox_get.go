package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func (a *app) devboxGetCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "get DEVBOX",
		Short: "Show a devbox",
		Args:  exactArgs("DEVBOX"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			d, err := c.GetDevbox(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, d, func(w io.Writer) error { return devboxText(w, d) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
