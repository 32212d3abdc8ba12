#!/usr/bin/env bash
# The Python SDK's whole check: the model drift check, lint, format, types
# and tests (unit tests, and integration tests against a real hogplane when
# run as root with Go). Run from anywhere, e.g. `bash python/scripts/check.sh`
# from the repository root. Installs only from PyPI, into python/.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== python: %s\n' "$*"; }

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  step "venv ($(python3 --version))"
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "python: the SDK needs Python 3.11 or newer; $venv has $("$py" --version)" >&2
  exit 1
fi

step "install (editable, with the dev extra)"
"$py" -m pip install --quiet --disable-pip-version-check -e '.[dev]'

step "models: generated file matches api/openapi.yaml"
"$py" scripts/gen_models.py --check

step "ruff check"
"$venv/bin/ruff" check .

step "ruff format --check"
"$venv/bin/ruff" format --check .

step "ty check"
"$venv/bin/ty" check src tests

step "pytest"
status=0
"$venv/bin/pytest" -q -rs || status=$?
if [ "$status" -eq 5 ]; then
  echo "python: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
