package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script (box ids complete too)",
		Long: `Print a completion script for bash, zsh or fish. Box ids complete from your
live boxes.

  bash:  source <(hog completion bash)
  zsh:   hog completion zsh > "${fpath[1]}/_hog"
  fish:  hog completion fish > ~/.config/fish/completions/hog.fish`,
		Args:      exactArgs("SHELL"),
		ValidArgs: []cobra.Completion{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			case "fish":
				return root.GenFishCompletion(a.stdout, true)
			}
			return usageError{fmt.Errorf("unknown shell %q: use bash, zsh or fish", args[0])}
		},
	}
}
