#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) and runs hogplane on the embedded
# defaults: SQLite and boxes under $HOGLAND_DATA (default /var/lib/hogland),
# the runc runtime, the debian image, listening on $HOGLAND_LISTEN
# (default 127.0.0.1:8470). Prints the URL and the admin token.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HOGLAND_DATA:-/var/lib/hogland}
listen=${HOGLAND_LISTEN:-127.0.0.1:8470}
bash scripts/deps.sh
bash scripts/build.sh
echo "building the default image once (about a minute on first run)..."
bin/hogplane image build debian --data-dir "$data"
exec bin/hogplane serve --data-dir "$data" --listen "$listen" "$@"
