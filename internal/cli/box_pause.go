package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) boxPauseCommand() *cobra.Command {
	return a.boxTransitionCommand("pause BOX", "Freeze every process of a box (it keeps its memory)", (*client.Client).PauseBox)
}

// boxTransitionCommand is a verb that moves one box to another state and
// shows it (pause, resume).
func (a *app) boxTransitionCommand(use, short string, call func(*client.Client, context.Context, string) (api.Box, error)) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              exactArgs("BOX"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.outputClient(out)
			if err != nil {
				return err
			}
			b, err := call(c, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(a.stdout, out, b, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s %s\n", b.ID, b.Status)
				return err
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}
