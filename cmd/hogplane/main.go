// Command hogplane is hogland's control plane.
package main

import (
	"context"
	"os"

	"github.com/PostHog/hogland/internal/plane"
)

func main() {
	os.Exit(plane.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
