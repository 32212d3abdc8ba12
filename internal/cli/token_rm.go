package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) tokenRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm PRINCIPAL_ID TOKEN_ID",
		Aliases: []string{"revoke"},
		Short:   "Revoke an API token; it is refused from the next call on",
		Args:    exactArgs("PRINCIPAL_ID", "TOKEN_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, args[1])
			return err
		},
	}
}
