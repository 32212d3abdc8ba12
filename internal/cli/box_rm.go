package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) boxRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "rm BOX...",
		Aliases:           []string{"delete", "destroy"},
		Short:             "Destroy boxes; prints each id destroyed",
		Args:              minArgs(1, "one or more BOX ids"),
		ValidArgsFunction: a.completeBoxIDs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var failed []error
			for _, id := range args {
				if err := c.DeleteBox(cmd.Context(), id); err != nil {
					if len(args) == 1 {
						return err
					}
					a.printError(fmt.Errorf("%s: %w", id, err))
					failed = append(failed, err)
					continue
				}
				fmt.Fprintln(a.stdout, id)
			}
			if len(failed) > 0 {
				return exitCodeError{exitError}
			}
			return nil
		},
	}
}
