package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) profileUseCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "use NAME",
		Short:             "Make a profile the current one",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(a.getenv)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			name := args[0]
			if _, ok := cfg.Profiles[name]; !ok {
				return cfg.noProfile(path, name)
			}
			cfg.CurrentProfile = name
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Now using profile %q (%s).\n", name, cfg.Profiles[name].Host)
			return nil
		},
	}
}
