package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) devboxCreateCommand() *cobra.Command {
	var (
		out                     output
		req                     api.CreateDevboxRequest
		memory, disk, stopAfter string
		env                     []string
		noAutoStart             bool
	)
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Make a devbox and start it; prints its id",
		Example: `  hog devbox create web --image debian --memory 2Gi --auto-stop 30m`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			var err error
			if req.Env, err = parseKV("env", env); err != nil {
				return err
			}
			if memory != "" {
				if req.MemoryMiB, err = parseSize("memory", memory, 1); err != nil {
					return err
				}
			}
			if disk != "" {
				if req.DiskGiB, err = parseSize("disk", disk, 1024); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("auto-stop") {
				secs, err := parseSeconds("auto-stop", stopAfter)
				if err != nil {
					return err
				}
				req.AutoStopSeconds = &secs
			}
			if noAutoStart {
				f := false
				req.AutoStart = &f
			}
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			stop := a.spin(out, "creating devbox "+req.Name)
			d, err := c.CreateDevbox(cmd.Context(), req)
			stop()
			if err != nil {
				return err
			}
			return render(a.stdout, out, d, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, d.ID)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Image, "image", "", "image to start from (see hog limits)")
	f.StringVar(&req.SnapshotID, "from", "", "snapshot id, or alias:NAME, to start from")
	f.Int64Var(&req.CPUs, "cpus", 0, "number of CPUs")
	f.StringVar(&memory, "memory", "", "memory, such as 512Mi or 2Gi (a plain number is MiB)")
	f.StringVar(&disk, "disk", "", "disk, such as 10Gi (a plain number is GiB)")
	f.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	f.StringVar(&stopAfter, "auto-stop", "", "stop after this long without use, such as 30m (0: never)")
	f.BoolVar(&noAutoStart, "no-auto-start", false, "do not start it on an exec or proxied request while stopped")
	addOutputFlags(cmd, &out)
	return cmd
}
