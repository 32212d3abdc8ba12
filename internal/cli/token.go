package cli

import "github.com/spf13/cobra"

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint API tokens (admins only)",
		Args:  exactArgs(),
	}
	cmd.AddCommand(a.tokenCreateCommand())
	return cmd
}
