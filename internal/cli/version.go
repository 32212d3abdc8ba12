package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"
)

type versionInfo struct {
	Client clientVersion  `json:"client"`
	Server *serverVersion `json:"server,omitempty"`
}

type clientVersion struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

type serverVersion struct {
	Host    string `json:"host"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (a *app) versionCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show hog's version, and hogplane's when one is configured",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{Client: clientVersion{Version: Version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}}
			if t, err := a.resolve(); err == nil {
				v.Server = a.serverVersion(cmd.Context(), t)
			}
			return render(a.stdout, out, v, func(w io.Writer) error {
				fmt.Fprintf(w, "hog %s (%s %s)\n", v.Client.Version, v.Client.Go, v.Client.Platform)
				switch {
				case v.Server == nil:
				case v.Server.Error != "":
					fmt.Fprintf(w, "hogplane at %s: %s\n", v.Server.Host, v.Server.Error)
				default:
					fmt.Fprintf(w, "hogplane %s at %s\n", v.Server.Version, v.Server.Host)
				}
				return nil
			})
		},
	}
	addOutputFlags(cmd, &out)
	return cmd
}

// serverVersion asks hogplane its version, briefly: version works offline.
func (a *app) serverVersion(ctx context.Context, t target) *serverVersion {
	sv := &serverVersion{Host: t.host}
	c, err := a.clientFor(t)
	if err != nil {
		sv.Error = err.Error()
		return sv
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h, err := c.Health(ctx)
	if err != nil {
		sv.Error = "unreachable: " + err.Error()
		return sv
	}
	sv.Version = h.Version
	return sv
}
