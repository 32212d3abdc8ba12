package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// profileView is a profile as listed; it never shows a token.
type profileView struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Current   bool   `json:"current"`
	TokenFile string `json:"token_file,omitempty"`
	HasToken  bool   `json:"has_token"`
}

func (a *app) profileLsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the profiles; * marks the current one",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(a.getenv)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			views := []profileView{}
			for _, n := range cfg.profileNames() {
				p := cfg.Profiles[n]
				views = append(views, profileView{Name: n, Host: p.Host, Current: n == cfg.current(), TokenFile: p.TokenFile, HasToken: p.Token != ""})
			}
			return render(a.stdout, out, views, func(w io.Writer) error {
				if len(views) == 0 {
					_, err := io.WriteString(a.stderr, "No profiles yet; add one with: hog login --host URL --token TOKEN\n")
					return err
				}
				rows := make([][]string, 0, len(views))
				for _, v := range views {
					mark := ""
					if v.Current {
						mark = "*"
					}
					rows = append(rows, []string{mark, v.Name, v.Host, tokenSource(v)})
				}
				return table(w, []string{"CURRENT", "NAME", "HOST", "TOKEN"}, rows)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func tokenSource(v profileView) string {
	switch {
	case v.HasToken:
		return "saved"
	case v.TokenFile != "":
		return "file " + v.TokenFile
	}
	return "none"
}
