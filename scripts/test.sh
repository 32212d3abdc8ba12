#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) and runs hogland's whole test
# suite: Go lint (gofmt, go vet, staticcheck) and tests with -race against
# real runc boxes, then the Python SDK's lint and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
export PATH="$PATH:$(go env GOPATH)/bin"

step() { printf '\n== %s\n' "$*"; }

step "build"
bash scripts/build.sh

step "lint: gofmt, go vet, staticcheck"
go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './python/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...

step "images (built once, shared by the tests)"
export HOGLAND_IMAGE_CACHE=${HOGLAND_IMAGE_CACHE:-/var/cache/hogland/images}
bin/hogplane image build busybox --image-dir "$HOGLAND_IMAGE_CACHE"
bin/hogplane image build debian --image-dir "$HOGLAND_IMAGE_CACHE"

step "go test -race"
go test -race -count=1 -timeout 25m ./...

if [ -f python/pyproject.toml ]; then
  step "python SDK"
  bash python/scripts/check.sh
fi
