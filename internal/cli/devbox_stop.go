package cli

import (
	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) devboxStopCommand() *cobra.Command {
	return a.devboxAction("stop", "Stop a devbox, keeping its disk in a snapshot", "stopping", func(cmd *cobra.Command, ref string) (api.Devbox, error) {
		c, err := a.client()
		if err != nil {
			return api.Devbox{}, err
		}
		return c.StopDevbox(cmd.Context(), ref)
	})
}
