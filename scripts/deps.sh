#!/usr/bin/env bash
# Installs everything hogland needs on a Debian machine, as root. Safe to
# run again: it installs only what is missing.
set -euo pipefail

debs=(runc busybox-static debootstrap e2fsprogs util-linux iproute2 ca-certificates procps git make python3 python3-venv)
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

# moto's S3-compatible server (PyPI moto[server]), which the tests of the
# S3 blob store run on loopback; in a venv of its own, linked onto PATH.
if ! command -v moto_server >/dev/null 2>&1; then
  venv=/var/cache/hogland/moto
  if [ ! -x "$venv/bin/moto_server" ]; then
    echo "deps: installing moto[server] into $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]>=5,<6'
  fi
  ln -sf "$venv/bin/moto_server" /usr/local/bin/moto_server
fi

export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
go mod download
