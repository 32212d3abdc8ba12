#!/usr/bin/env bash
# Installs everything hogland needs on a Debian machine, as root. Safe to
# run again: it installs only what is missing.
set -euo pipefail

debs=(runc busybox-static debootstrap e2fsprogs util-linux iproute2 ca-certificates procps git make)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v go >/dev/null 2>&1; then
  # Debian's Go is older than go.mod asks for; GOTOOLCHAIN=auto then
  # fetches the right toolchain from the Go module proxy.
  missing+=(golang-go)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
go mod download
