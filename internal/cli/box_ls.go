package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) boxLsCommand() *cobra.Command {
	var (
		out    output
		all    bool
		quiet  bool
		status []string
		tags   []string
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List your boxes, newest first (live ones unless --all)",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTags(tags); err != nil {
				return err
			}
			opts := client.ListBoxesOptions{Status: status, Tags: tags, Limit: 200}
			if len(status) == 0 && !all {
				opts.Status = liveStatuses
			}
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			boxes := []api.Box{}
			for b, err := range c.AllBoxes(cmd.Context(), opts) {
				if err != nil {
					return err
				}
				boxes = append(boxes, b)
			}
			if quiet && !out.machine() {
				for _, b := range boxes {
					fmt.Fprintln(a.stdout, b.ID)
				}
				return nil
			}
			return render(a.stdout, out, boxes, func(w io.Writer) error {
				if len(boxes) == 0 {
					_, err := io.WriteString(a.stderr, "No boxes. Create one with: hog box create --image busybox\n")
					return err
				}
				return boxTable(w, boxes, time.Now())
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "include stopped and failed boxes")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the ids")
	f.StringSliceVar(&status, "status", nil, "only boxes with these statuses (creating, running, paused, stopped, failed)")
	f.StringArrayVar(&tags, "tag", nil, "only boxes with this key=value tag (repeatable; all must match)")
	addOutputFlags(cmd, &out)
	return cmd
}

func boxTable(w io.Writer, boxes []api.Box, now time.Time) error {
	rows := make([][]string, 0, len(boxes))
	for _, b := range boxes {
		rows = append(rows, []string{
			b.ID,
			orDash(b.Spec.Name),
			boxStatus(b),
			b.Spec.Image,
			fmt.Sprint(b.Spec.CPUs),
			mib(b.Spec.MemoryMiB),
			orDash(strings.Join(b.Tags, ",")),
			age(now.Sub(b.CreatedAt)),
		})
	}
	return table(w, []string{"ID", "NAME", "STATUS", "IMAGE", "CPUS", "MEMORY", "TAGS", "AGE"}, rows)
}
