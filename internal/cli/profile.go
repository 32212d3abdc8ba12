package cli

import "github.com/spf13/cobra"

func (a *app) profileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "List, switch and remove the profiles of the config file",
		Long: `A profile is a hogplane host and a token, saved by hog login in
$XDG_CONFIG_HOME/hogland/config.json (or ~/.config/hogland/config.json).
--host, --token and --profile override it for one command, and so do
$HOG_HOST and $HOG_TOKEN (but not an explicit --profile).`,
		Args: exactArgs(),
	}
	cmd.AddCommand(a.profileLsCommand(), a.profileUseCommand(), a.profileRmCommand())
	return cmd
}

// completeProfiles completes the names of profiles.
func (a *app) completeProfiles(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	path, err := configPath(a.getenv)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, n := range cfg.profileNames() {
		out = append(out, cobra.CompletionWithDesc(n, cfg.Profiles[n].Host))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
