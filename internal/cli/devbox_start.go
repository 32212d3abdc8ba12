package cli

import (
	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/client"
)

func (a *app) devboxStartCommand() *cobra.Command {
	return a.devboxAction("start", "Start a stopped devbox from its disk", "starting", (*client.Client).StartDevbox)
}
