#!/usr/bin/env bash
# Benchmarks hogland on this machine (`make bench`): builds hogplane and
# hogpanion, makes sure the images it needs are in the image cache, then
# runs cmd/hogbench, which prints a Markdown table of every figure beside a
# baseline measured in the same run and writes bench/results.json and
# bench/results.md. Needs root. Arguments go to hogbench, e.g.
#
#   bash scripts/bench.sh --quick            # smoke run, well under a minute
#   bash scripts/bench.sh --n 20 --boxes 100 # the full run (the defaults)
#   bash scripts/bench.sh --help
#
# It exits non-zero only on errors, never because a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
export HOGLAND_IMAGE_CACHE=${HOGLAND_IMAGE_CACHE:-/var/cache/hogland/images}

# The image of the boxes (--image, default busybox); the runc baseline
# always runs over busybox.
image=busybox
prev=
for arg in "$@"; do
  case "$prev" in --image|-image) image=$arg ;; esac
  case "$arg" in --image=*|-image=*) image=${arg#*=} ;; esac
  prev=$arg
done

# Only the report goes to stdout.
bash scripts/build.sh >&2
bin/hogplane image build busybox --image-dir "$HOGLAND_IMAGE_CACHE" >&2
if [ "$image" != busybox ]; then
  bin/hogplane image build "$image" --image-dir "$HOGLAND_IMAGE_CACHE" >&2
fi
exec go run ./cmd/hogbench --bin bin --image-dir "$HOGLAND_IMAGE_CACHE" "$@"
