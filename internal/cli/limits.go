package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) limitsCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "limits",
		Short: "Show the valid box settings, images, kinds, and your quota and usage",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			l, err := c.Limits(cmd.Context())
			if err != nil {
				return err
			}
			return render(a.stdout, out, l, func(w io.Writer) error { return limitsText(w, l) })
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

func limitsText(w io.Writer, l api.Limits) error {
	r := func(name string, x api.Range) []string {
		return []string{name, strconv.FormatInt(x.Min, 10), strconv.FormatInt(x.Max, 10), strconv.FormatInt(x.Default, 10)}
	}
	if err := table(w, []string{"SETTING", "MIN", "MAX", "DEFAULT"}, [][]string{
		r("cpus", l.CPUs),
		r("memory_mib", l.MemoryMiB),
		r("disk_gib", l.DiskGiB),
		r("ttl_seconds", l.TTLSeconds),
		r("exec_timeout_seconds", l.ExecTimeoutSeconds),
		r("file_size_bytes", l.FileSizeBytes),
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	var kinds []string
	for _, k := range l.Kinds {
		kinds = append(kinds, fmt.Sprintf("%s (ttl %ds)", k.Name, k.DefaultTTLSeconds))
	}
	return pairs(w,
		"Images", strings.Join(l.Images, ", "),
		"Kinds", strings.Join(kinds, ", "),
		"Exec output cap", fmt.Sprintf("%d bytes per stream (batch exec)", l.ExecOutputBytes),
		"Boxes", fmt.Sprintf("%d of %d", l.Usage.Boxes, l.Quota.MaxBoxes),
		"CPUs", fmt.Sprintf("%d of %d", l.Usage.CPUs, l.Quota.MaxCPUs),
		"Memory", fmt.Sprintf("%d of %d MiB", l.Usage.MemoryMiB, l.Quota.MaxMemoryMiB),
	)
}
