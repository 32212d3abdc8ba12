package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) snapshotAliasCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "alias SNAPSHOT NAME",
		Short:   "Point an alias at a snapshot (moving it if it exists)",
		Example: `  hog snapshot alias snap-0123456789ab python-base && hog box create --from alias:python-base`,
		Args:    exactArgs("SNAPSHOT", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			al, err := c.SetSnapshotAlias(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if al.PreviousSnapshotID != "" && al.PreviousSnapshotID != al.SnapshotID {
				_, err = fmt.Fprintf(a.stdout, "alias:%s -> %s (was %s)\n", al.Name, al.SnapshotID, al.PreviousSnapshotID)
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "alias:%s -> %s\n", al.Name, al.SnapshotID)
			return err
		},
	}
}
