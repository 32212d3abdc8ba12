package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) snapshotRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm SNAPSHOT",
		Aliases: []string{"delete"},
		Short:   "Delete a snapshot nothing stands on any more",
		Args:    exactArgs("SNAPSHOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DeleteSnapshot(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, args[0])
			return err
		},
	}
}
