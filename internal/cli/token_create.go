package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) tokenCreateCommand() *cobra.Command {
	var (
		out     output
		req     api.CreateTokenRequest
		expires string
	)
	cmd := &cobra.Command{
		Use:   "create PRINCIPAL_ID",
		Short: "Mint an API token for a principal; prints the secret, shown only once",
		Example: `  hog token create prn-0123456789ab --name laptop --expires-in 720h
  hog login --host http://127.0.0.1:8470 --token "$(hog token create prn-0123456789ab)" --profile alice`,
		Args: exactArgs("PRINCIPAL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires != "" {
				secs, err := parseSeconds("expires-in", expires)
				if err != nil {
					return err
				}
				req.ExpiresInSeconds = secs
			}
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			tok, err := c.CreateToken(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return render(a.stdout, out, tok, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, tok.Token)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&req.Name, "name", "", "name of the token, to tell it apart later")
	cmd.Flags().StringVar(&expires, "expires-in", "", "lifetime, such as 24h or 720h (default: never expires)")
	addOutputFlags(cmd, &out)
	return cmd
}
