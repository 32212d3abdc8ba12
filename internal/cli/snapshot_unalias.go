package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) snapshotUnaliasCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unalias SNAPSHOT NAME",
		Short: "Remove an alias from a snapshot",
		Args:  exactArgs("SNAPSHOT", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			return c.DeleteSnapshotAlias(cmd.Context(), args[0], args[1])
		},
	}
}
