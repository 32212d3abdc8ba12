package cli

import (
	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) devboxStartCommand() *cobra.Command {
	return a.devboxAction("start", "Start a stopped devbox from its disk", "starting", func(cmd *cobra.Command, ref string) (api.Devbox, error) {
		c, err := a.client()
		if err != nil {
			return api.Devbox{}, err
		}
		return c.StartDevbox(cmd.Context(), ref)
	})
}
