package cli

import "github.com/spf13/cobra"

func (a *app) previewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Share a port of a box with a link that expires (preview tokens)",
		Args:  exactArgs(),
	}
	cmd.AddCommand(a.previewCreateCommand(), a.previewLsCommand(), a.previewRmCommand())
	return cmd
}
