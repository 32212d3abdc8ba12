package cli

import "github.com/spf13/cobra"

func (a *app) principalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "principal",
		Short: "Make principals, the users and services tokens belong to (admins only)",
		Args:  exactArgs(),
	}
	cmd.AddCommand(a.principalCreateCommand(), a.principalLsCommand(), a.principalGetCommand())
	return cmd
}
