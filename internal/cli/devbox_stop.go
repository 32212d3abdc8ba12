package cli

import (
	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/client"
)

func (a *app) devboxStopCommand() *cobra.Command {
	return a.devboxAction("stop", "Stop a devbox, keeping its disk in a snapshot", "stopping", (*client.Client).StopDevbox)
}
