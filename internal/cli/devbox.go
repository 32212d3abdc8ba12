package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) devboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "devbox",
		Aliases: []string{"devboxes"},
		Short:   "Named, long-lived boxes that sleep when idle and keep their disk",
		Long: `A devbox is a named box that stops when idle (its disk kept in a snapshot)
and starts again on demand. Commands take its name or its id (dbx-...).`,
		Args: exactArgs(),
	}
	cmd.AddCommand(
		a.devboxCreateCommand(),
		a.devboxLsCommand(),
		a.devboxGetCommand(),
		a.devboxRmCommand(),
		a.devboxStartCommand(),
		a.devboxStopCommand(),
		a.devboxEventsCommand(),
		a.devboxExecCommand(),
	)
	return cmd
}

func autoStop(secs int64) string {
	if secs == 0 {
		return "never"
	}
	return (time.Duration(secs) * time.Second).String()
}

func devboxText(w io.Writer, d api.Devbox) error {
	return pairs(w,
		"ID", d.ID,
		"Name", d.Name,
		"Status", d.Status,
		"Box", orDash(d.BoxID),
		"Image", d.Image,
		"Shape", shapeText(d.Spec),
		"Disk snapshot", orDash(d.SnapshotID),
		"Auto-stop", autoStop(d.AutoStopSeconds),
		"Auto-start", yesNo(d.AutoStart),
		"Created", timestamp(d.CreatedAt),
	)
}

// devboxAction is the shape of start and stop: one call, then the devbox.
func (a *app) devboxAction(use, short, doing string, call func(*client.Client, context.Context, string) (api.Devbox, error)) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   use + " DEVBOX",
		Short: short,
		Args:  exactArgs("DEVBOX"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			stop := a.spin(out, doing+" "+args[0])
			d, err := call(c, cmd.Context(), args[0])
			stop()
			if err != nil {
				return err
			}
			return render(a.stdout, out, d, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s %s\n", d.Name, d.Status)
				return err
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
