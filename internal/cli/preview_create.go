package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) previewCreateCommand() *cobra.Command {
	var (
		out     output
		expires string
	)
	cmd := &cobra.Command{
		Use:               "create BOX PORT",
		Short:             "Mint a link that opens PORT of the box to anyone holding it; prints the URL",
		Example:           `  hog preview create box-0123456789ab 8080 --expires-in 2h`,
		Args:              exactArgs("BOX", "PORT"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := parsePort(args[1])
			if err != nil {
				return err
			}
			req := api.CreatePreviewTokenRequest{Port: port}
			if expires != "" {
				if req.ExpiresInSeconds, err = parseSeconds("expires-in", expires); err != nil {
					return err
				}
			}
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			t, err := c.CreatePreviewToken(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return render(a.stdout, out, t, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, t.URL)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&expires, "expires-in", "", "lifetime, such as 30m or 24h (default: hogplane's)")
	addOutputFlags(cmd, &out)
	return cmd
}
