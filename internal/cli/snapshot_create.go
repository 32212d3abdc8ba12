package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) snapshotCreateCommand() *cobra.Command {
	var (
		out   output
		alias string
	)
	cmd := &cobra.Command{
		Use:               "create BOX",
		Short:             "Snapshot a box (it keeps running); prints the snapshot id",
		Example:           `  hog snapshot create box-0123456789ab --alias python-base`,
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			stop := a.spin(out, "snapshotting "+args[0])
			s, err := c.SnapshotBox(cmd.Context(), args[0])
			stop()
			if err != nil {
				return err
			}
			if alias != "" {
				if _, err := c.SetSnapshotAlias(cmd.Context(), s.ID, alias); err != nil {
					return fmt.Errorf("snapshot %s was made, but alias %s was not set: %w", s.ID, alias, err)
				}
				s.Aliases = append(s.Aliases, alias)
			}
			return render(a.stdout, out, s, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, s.ID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&alias, "alias", "", "also point this alias at the snapshot")
	addOutputFlags(cmd, &out)
	return cmd
}
