package cli

import (
	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/client"
)

func (a *app) boxResumeCommand() *cobra.Command {
	return a.boxTransitionCommand("resume BOX", "Thaw a paused box", (*client.Client).ResumeBox)
}
