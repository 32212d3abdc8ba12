#!/usr/bin/env bash
# Builds hogplane, hogpanion and hog into bin/. hogpanion is static: it runs
# inside boxes whose root has no Go runtime or libc of ours.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
mkdir -p bin
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/hogpanion ./cmd/hogpanion
CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/PostHog/hogland/internal/plane.Version=$version" -o bin/hogplane ./cmd/hogplane
if [ -d cmd/hog ] && ls cmd/hog/*.go >/dev/null 2>&1; then
  CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/PostHog/hogland/internal/cli.Version=$version" -o bin/hog ./cmd/hog
fi
