package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func (a *app) snapshotAliasesCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "aliases",
		Short: "List your snapshot aliases",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.ListSnapshotAliases(cmd.Context())
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error {
				rows := make([][]string, 0, len(l.Items))
				for _, al := range l.Items {
					rows = append(rows, []string{al.Name, al.SnapshotID, timestamp(al.UpdatedAt)})
				}
				return table(w, []string{"ALIAS", "SNAPSHOT", "UPDATED"}, rows)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
