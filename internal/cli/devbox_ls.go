package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) devboxLsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List your devboxes",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			ds := []api.Devbox{}
			for cursor := ""; ; {
				page, err := c.ListDevboxes(cmd.Context(), 200, cursor)
				if err != nil {
					return err
				}
				ds = append(ds, page.Items...)
				if page.NextCursor == "" || page.NextCursor == cursor {
					break
				}
				cursor = page.NextCursor
			}
			return render(a.stdout, out, ds, func(w io.Writer) error {
				if len(ds) == 0 {
					_, err := io.WriteString(a.stderr, "No devboxes. Create one with: hog devbox create NAME --image busybox\n")
					return err
				}
				rows := make([][]string, 0, len(ds))
				for _, d := range ds {
					rows = append(rows, []string{d.Name, d.ID, d.Status, orDash(d.BoxID), d.Image, autoStop(d.AutoStopSeconds)})
				}
				return table(w, []string{"NAME", "ID", "STATUS", "BOX", "IMAGE", "AUTO-STOP"}, rows)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
