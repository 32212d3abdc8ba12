package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) principalCreateCommand() *cobra.Command {
	var (
		out output
		req api.CreatePrincipalRequest
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Make a principal; prints its id",
		Example: `  id=$(hog principal create alice)
  hog token create "$id" --name laptop`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			p, err := c.CreatePrincipal(cmd.Context(), req)
			if err != nil {
				return err
			}
			return render(a.stdout, out, p, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, p.ID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&req.Kind, "kind", "", "user (default) or service")
	cmd.Flags().BoolVar(&req.Admin, "admin", false, "make the principal an admin")
	addOutputFlags(cmd, &out)
	return cmd
}
