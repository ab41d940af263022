#!/usr/bin/env bash
# Install nwm_geo with its dev extras into .venv-test and run every check:
# ruff, mypy, and pytest (unit tests, the Luton integration tests, the four
# notebooks and the headless-Chromium browser test).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv-test
.venv-test/bin/python -m pip install --quiet --upgrade pip
.venv-test/bin/python -m pip install --quiet -e ".[dev]"

# The browser test drives Debian's Chromium; install it when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser test ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed and this user cannot apt-get it; the browser test will fail." >&2
  fi
fi

.venv-test/bin/ruff check src tests benchmarks
.venv-test/bin/mypy
.venv-test/bin/nwm-geo import-data
.venv-test/bin/python -m pytest "$@"
