package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/PostHog/hogland/api"
)

func (a *app) snapshotCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "snapshot",
		Aliases: []string{"snapshots", "snap"},
		Short:   "Snapshot boxes, name snapshots with aliases, start boxes from them",
		Long: `A snapshot keeps a box's filesystem; start a box from one with
hog box create --from SNAPSHOT (or --from alias:NAME).`,
		Args: exactArgs(),
	}
	cmd.AddCommand(
		a.snapshotCreateCommand(),
		a.snapshotLsCommand(),
		a.snapshotGetCommand(),
		a.snapshotRmCommand(),
		a.snapshotAliasCommand(),
		a.snapshotUnaliasCommand(),
		a.snapshotAliasesCommand(),
	)
	return cmd
}

func snapshotTable(w io.Writer, ss []api.Snapshot, now time.Time) error {
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, []string{s.ID, s.BoxID, s.Image, bytesText(s.SizeBytes), orDash(strings.Join(s.Aliases, ",")), age(now.Sub(s.CreatedAt))})
	}
	return table(w, []string{"ID", "BOX", "IMAGE", "SIZE", "ALIASES", "AGE"}, rows)
}

func snapshotText(w io.Writer, s api.Snapshot) error {
	return pairs(w,
		"ID", s.ID,
		"Box", s.BoxID,
		"Parent", orDash(s.ParentID),
		"Kind", s.Kind,
		"Image", s.Image,
		"Shape", shapeText(s.Spec),
		"Size", bytesText(s.SizeBytes),
		"Layers", fmt.Sprint(s.Depth),
		"Paused for", fmt.Sprintf("%d ms (took %d ms)", s.PauseMS, s.DurationMS),
		"Aliases", orDash(strings.Join(s.Aliases, ", ")),
		"Created", timestamp(s.CreatedAt),
	)
}

// bytesText shows a size in bytes with a binary unit.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// shapeText is a machine's shape for people: "2 CPUs, 1 GiB, 5 GiB disk".
func shapeText(sh api.Shape) string {
	cpus := "CPUs"
	if sh.CPUs == 1 {
		cpus = "CPU"
	}
	return fmt.Sprintf("%d %s, %s, %d GiB disk", sh.CPUs, cpus, mib(sh.MemoryMiB), sh.DiskGiB)
}
