package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func (a *app) principalLsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List every principal (admins only)",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			l, err := c.ListPrincipals(cmd.Context())
			if err != nil {
				return err
			}
			return render(a.stdout, out, l.Items, func(w io.Writer) error {
				rows := make([][]string, 0, len(l.Items))
				for _, p := range l.Items {
					rows = append(rows, []string{p.ID, p.Name, p.Kind, yesNo(p.Admin), timestamp(p.CreatedAt)})
				}
				return table(w, []string{"ID", "NAME", "KIND", "ADMIN", "CREATED"}, rows)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
