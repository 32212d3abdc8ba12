package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) principalGetCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "get PRINCIPAL_ID",
		Short: "Show a principal with its quota and usage",
		Args:  exactArgs("PRINCIPAL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			d, err := c.GetPrincipal(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, d, func(w io.Writer) error {
				p := d.Principal
				return pairs(w,
					"ID", p.ID,
					"Name", p.Name,
					"Kind", p.Kind,
					"Admin", yesNo(p.Admin),
					"Created", timestamp(p.CreatedAt),
					"Boxes", fmt.Sprintf("%d of %d", d.Usage.Boxes, d.Quota.MaxBoxes),
					"CPUs", fmt.Sprintf("%d of %d", d.Usage.CPUs, d.Quota.MaxCPUs),
					"Memory", fmt.Sprintf("%d of %d MiB", d.Usage.MemoryMiB, d.Quota.MaxMemoryMiB),
				)
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
