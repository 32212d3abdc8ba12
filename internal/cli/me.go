package cli

import (
	"io"

	"github.com/spf13/cobra"
)

func (a *app) meCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "me",
		Short: "Show who the token belongs to",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			return render(a.stdout, out, me, func(w io.Writer) error {
				p := me.Principal
				return pairs(w,
					"Principal", p.Name+" ("+p.ID+")",
					"Kind", p.Kind,
					"Admin", yesNo(p.Admin),
					"Auth", me.AuthPath+tokenSuffix(me.TokenID),
					"Host", c.Host(),
				)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func tokenSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (token " + id + ")"
}
