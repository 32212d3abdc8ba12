package cli

import "github.com/spf13/cobra"

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint, list and revoke API tokens",
		Args:  exactArgs(),
	}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenLsCommand(), a.tokenRmCommand())
	return cmd
}
