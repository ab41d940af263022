#!/usr/bin/env bash
# Install nwm_geo with its dev extras into .venv-test and run every check:
# ruff (lint and format), mypy, the import layers (import-linter), the docs site
# (mkdocs --strict, executing the six notebooks once into pages with their outputs),
# and pytest with both tiers: the fast unit tests and the slow tier (the Luton
# integration tests, the checks of the built notebook pages, the headless-Chromium
# browser test, the locality-pack test with poppler's pdftoppm). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv-test
# uv (from PyPI, into the venv) installs the same versions as pip in seconds, where pip
# took 40-50 s of this command; when uv cannot be had or fails, pip installs instead.
# --no-compile: pip would byte-compile every installed module (about 20 s on 2 cores);
# Python compiles the modules the checks import on first use (uv never compiles).
if ! { .venv-test/bin/python -m pip install --quiet "uv>=0.5" &&
       .venv-test/bin/uv pip install --quiet --python .venv-test/bin/python -e ".[dev]"; }; then
  echo "uv could not install the dependencies; pip installs them instead" >&2
  .venv-test/bin/python -m pip install --quiet --no-compile -e ".[dev]"
fi

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

# The locality-pack test renders the PDF with poppler's pdftoppm/pdftotext.
if ! command -v pdftoppm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's poppler-utils for the locality-pack test ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "poppler-utils (pdftoppm) is not installed and this user cannot apt-get it; the pack test will fail." >&2
  fi
fi

PY_PATHS=(src tests benchmarks notebooks scripts)
# Each step says when it started (seconds since this script began).
step() { echo "== $1 (at ${SECONDS} s)"; }
site_dir="$(mktemp -d)"
checks_log="$(mktemp)"
docs_log="$(mktemp)"
checks_pid=""
docs_pid=""
trap 'rm -rf "$site_dir" "$checks_log" "$docs_log"
      [ -z "$checks_pid" ] || kill "$checks_pid" 2>/dev/null || true
      [ -z "$docs_pid" ] || kill "$docs_pid" 2>/dev/null || true' EXIT

step "ruff check"
.venv-test/bin/ruff check "${PY_PATHS[@]}"
step "ruff format --check"
.venv-test/bin/ruff format --check "${PY_PATHS[@]}"
# mypy and the import layers (about 30 CPU-s on a clean clone) run in the background
# beside the next steps; their output is printed, and a failure stops the script, once
# pytest has finished.
step "mypy and lint-imports (beside the next steps)"
( .venv-test/bin/mypy && .venv-test/bin/lint-imports ) >"$checks_log" 2>&1 &
checks_pid=$!
step "nwm-geo import-data"
.venv-test/bin/nwm-geo import-data
# The notebooks read the saved plan (Study.from_outputs): solve it once when there is
# none (a clean clone); a plan a run already saved is left as it is.
if [ ! -f data/processed/localities.csv ]; then
  step "nwm-geo localities (the plan the notebooks read)"
  .venv-test/bin/nwm-geo --quiet localities
fi
# The docs build executes each notebook once (scripts/mkdocs_hooks.py) and publishes it
# with its outputs; a failing cell fails the build. It runs beside the tests that do not
# read it (it keeps one core busy for about a minute, mostly in the notebook kernel);
# tests/test_notebooks.py then checks the built pages in $NWM_GEO_SITE_DIR instead of
# executing the notebooks again.
step "mkdocs build --strict (executes the notebooks, beside pytest)"
# No --quiet: it drops the warnings, and --strict then passes a broken site.
NO_MKDOCS_2_WARNING=1 .venv-test/bin/mkdocs build --strict --site-dir "$site_dir" \
  >"$docs_log" 2>&1 &
docs_pid=$!
step "pytest (all tiers but the built notebooks)"
tests_status=0
NWM_GEO_SITE_DIR="$site_dir" .venv-test/bin/python -m pytest -m "not notebooks" "$@" \
  || tests_status=$?
# every background step's output is printed, whatever failed
checks_status=0
wait "$checks_pid" || checks_status=$?
checks_pid=""
step "mypy and lint-imports finished"
cat "$checks_log"
docs_status=0
wait "$docs_pid" || docs_status=$?
docs_pid=""
step "mkdocs finished"
cat "$docs_log"
notebooks_status=0
if [ "$docs_status" -eq 0 ]; then
  step "pytest (the built notebooks)"
  # One process and one file (the marker's only user): starting workers and collecting
  # every test module would take longer than these checks.
  NWM_GEO_SITE_DIR="$site_dir" .venv-test/bin/python -m pytest -m notebooks -n 0 \
    tests/test_notebooks.py "$@" || notebooks_status=$?
  # 5: no test selected (extra arguments that name other tests)
  [ "$notebooks_status" -ne 5 ] || notebooks_status=0
fi
failed=""
[ "$tests_status" -eq 0 ] || failed="$failed pytest($tests_status)"
[ "$checks_status" -eq 0 ] || failed="$failed mypy-or-lint-imports($checks_status)"
[ "$docs_status" -eq 0 ] || failed="$failed mkdocs($docs_status)"
[ "$notebooks_status" -eq 0 ] || failed="$failed notebook-pages($notebooks_status)"
if [ -n "$failed" ]; then
  echo "FAILED:$failed" >&2
  exit 1
fi
step "done"
