package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/client"
)

func (a *app) boxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "box",
		Aliases: []string{"boxes"},
		Short:   "Create, list, inspect, pause, resume and remove boxes",
		Args:    exactArgs(),
	}
	cmd.AddCommand(
		a.boxCreateCommand(),
		a.boxLsCommand(),
		a.boxGetCommand(),
		a.boxRmCommand(),
		a.boxPauseCommand(),
		a.boxResumeCommand(),
		a.boxEventsCommand(),
	)
	return cmd
}

// liveStatuses are the statuses of boxes that still exist.
var liveStatuses = []string{api.StatusCreating, api.StatusRunning, api.StatusPaused}

// completeBoxIDs completes the ids of the caller's live boxes, with their
// names and statuses as descriptions; n is how many box arguments the
// command takes (0 for any number).
func (a *app) completeBoxIDs(n int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if n > 0 && len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return a.boxCompletions(cmd.Context(), args, ""), cobra.ShellCompDirectiveNoFileComp
	}
}

// boxCompletions lists live box ids not in skip, each followed by suffix.
// Completion must stay quick and quiet: errors give no completions.
func (a *app) boxCompletions(ctx context.Context, skip []string, suffix string) []cobra.Completion {
	c, err := a.client()
	if err != nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var out []cobra.Completion
	for b, err := range c.AllBoxes(ctx, client.ListBoxesOptions{Status: liveStatuses, Limit: 500}) {
		if err != nil {
			return out
		}
		if contains(skip, b.ID) {
			continue
		}
		desc := b.Status
		if b.Spec.Name != "" {
			desc = b.Spec.Name + ", " + desc
		}
		out = append(out, cobra.CompletionWithDesc(b.ID+suffix, desc))
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// boxStatus is a box's status with the reason it ended, if it did.
func boxStatus(b api.Box) string {
	if b.TerminationReason != "" {
		return b.Status + " (" + b.TerminationReason + ")"
	}
	return b.Status
}

// boxText is the view of one box for people.
func boxText(w io.Writer, b api.Box, now time.Time) error {
	kv := []string{
		"ID", b.ID,
		"Name", orDash(b.Spec.Name),
		"Status", boxStatus(b),
		"Kind", b.Kind,
		"Image", b.Spec.Image,
		"CPUs", fmt.Sprint(b.Spec.CPUs),
		"Memory", mib(b.Spec.MemoryMiB),
		"Disk", fmt.Sprintf("%d GiB", b.Spec.DiskGiB),
		"Tags", orDash(strings.Join(b.Tags, ", ")),
		"Idle TTL", (time.Duration(b.TTLSeconds) * time.Second).String(),
	}
	if b.ExpiresAt != nil {
		kv = append(kv, "Expires", fmt.Sprintf("%s (in %s)", timestamp(*b.ExpiresAt), age(b.ExpiresAt.Sub(now))))
	}
	if b.SnapshotID != "" {
		kv = append(kv, "Snapshot", b.SnapshotID)
	}
	kv = append(kv, "Created", fmt.Sprintf("%s (%s ago)", timestamp(b.CreatedAt), age(now.Sub(b.CreatedAt))))
	if b.EndedAt != nil {
		kv = append(kv, "Ended", timestamp(*b.EndedAt))
	}
	return pairs(w, kv...)
}
