// Command hogpanion is the agent inside every hogland box; see package
// internal/panion and docs/agent-protocol.md.
package main

import (
	"os"

	"github.com/PostHog/hogland/internal/panion"
)

func main() { os.Exit(panion.Main(os.Args[1:], os.Stdout, os.Stderr)) }
