package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) profileRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "rm NAME",
		Aliases:           []string{"remove"},
		Short:             "Remove a profile and its saved token",
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
			delete(cfg.Profiles, name)
			wasCurrent := cfg.current() == name
			if wasCurrent {
				cfg.CurrentProfile = ""
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Removed profile %q.\n", name)
			if wasCurrent && len(cfg.Profiles) > 0 {
				fmt.Fprintf(a.stdout, "It was the current profile; pick another with: hog profile use NAME\n")
			}
			return nil
		},
	}
}
