package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) previewRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "rm BOX TOKEN_ID",
		Aliases:           []string{"revoke"},
		Short:             "Revoke a preview token; its link stops working at once",
		Args:              exactArgs("BOX", "TOKEN_ID"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RevokePreviewToken(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, args[1])
			return err
		},
	}
}
