package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) urlCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "url BOX PORT [PATH]",
		Short: "Print the proxy URL of a port of a box (for you: send your token, or use hog preview)",
		Long: `Print the URL at which hogplane forwards requests to 127.0.0.1:PORT inside the
box. It needs your token (Authorization: Bearer ...), unless the box is
public; to share a port with others, mint a link with hog preview create.`,
		Example:           `  curl -H "Authorization: Bearer $HOG_TOKEN" "$(hog url box-0123456789ab 8080 /health)"`,
		Args:              minArgs(2, "a BOX and a PORT"),
		ValidArgsFunction: a.completeBoxIDs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 3 {
				return usageError{fmt.Errorf("hog url takes BOX PORT [PATH], got %d arguments", len(args))}
			}
			port, err := parsePort(args[1])
			if err != nil {
				return err
			}
			path := ""
			if len(args) == 3 {
				path = args[2]
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, c.ProxyURL(args[0], port, path))
			return err
		},
	}
}
