// Command hogbench measures hogland on this machine against baselines
// measured in the same run; see scripts/bench.sh and internal/bench.
package main

import (
	"context"
	"os"

	"github.com/PostHog/hogland/internal/bench"
)

func main() {
	os.Exit(bench.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
