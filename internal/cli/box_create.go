package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) boxCreateCommand() *cobra.Command {
	var (
		out                         output
		req                         api.CreateBoxRequest
		memory, disk, ttl, snapshot string
		env, tags                   []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a box and wait until it runs; prints its id",
		Long: `Create a box and wait until it runs. Prints the box id (the whole box with
--json or -o yaml). Settings left out take the defaults of the kind and of
hogplane: see hog limits.`,
		Example: `  hog box create --image busybox
  hog box create --name web --cpus 2 --memory 2Gi --disk 10 --ttl 2h --tag team=ai --env MODE=dev
  hog box create --from alias:python-base`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if req.Env, err = parseKV("env", env); err != nil {
				return err
			}
			if err := checkTags(tags); err != nil {
				return err
			}
			req.Tags = tags
			req.SnapshotID = snapshot
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
			if cmd.Flags().Changed("ttl") {
				secs, err := parseSeconds("ttl", ttl)
				if err != nil {
					return err
				}
				req.TTLSeconds = &secs
			}
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			stop := a.spin(out, "creating box")
			b, err := c.CreateBox(cmd.Context(), req)
			stop()
			if err != nil {
				return err
			}
			return render(a.stdout, out, b, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, b.ID)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Image, "image", "", "image to start from (see hog limits), such as debian or busybox")
	f.StringVar(&req.Name, "name", "", "name, unique among your live boxes")
	f.StringVar(&req.Kind, "kind", "", "kind of box (see hog limits); sets defaults such as the idle TTL")
	f.Int64Var(&req.CPUs, "cpus", 0, "number of CPUs")
	f.StringVar(&memory, "memory", "", "memory, such as 512Mi or 2Gi (a plain number is MiB)")
	f.StringVar(&disk, "disk", "", "disk, such as 10Gi (a plain number is GiB)")
	f.StringVar(&ttl, "ttl", "", "idle timeout, such as 30m or 2h (a plain number is seconds)")
	f.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE of every command (repeatable)")
	f.StringArrayVar(&tags, "tag", nil, "tag key=value (repeatable)")
	f.StringVar(&snapshot, "from", "", "snapshot id, or alias:NAME, to start from")
	addOutputFlags(cmd, &out)
	return cmd
}
