package cli

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) snapshotLsCommand() *cobra.Command {
	var (
		out  output
		opts client.ListSnapshotsOptions
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List your snapshots, newest first",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			ss := []api.Snapshot{}
			for s, err := range c.AllSnapshots(cmd.Context(), opts) {
				if err != nil {
					return err
				}
				ss = append(ss, s)
			}
			return render(a.stdout, out, ss, func(w io.Writer) error {
				if len(ss) == 0 {
					_, err := io.WriteString(a.stderr, "No snapshots. Take one with: hog snapshot create BOX\n")
					return err
				}
				return snapshotTable(w, ss, time.Now())
			})
		},
	}
	cmd.Flags().StringVar(&opts.Alias, "alias", "", "only the snapshot this alias points at")
	cmd.Flags().StringVar(&opts.BoxID, "box", "", "only snapshots of this box")
	addOutputFlags(cmd, &out)
	return cmd
}
