package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) devboxRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm DEVBOX",
		Aliases: []string{"delete"},
		Short:   "Destroy a devbox, its box and its disk",
		Args:    exactArgs("DEVBOX"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DeleteDevbox(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, args[0])
			return err
		},
	}
}
