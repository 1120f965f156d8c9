#!/usr/bin/env bash
# Runs every test: the Swift XCTest suites and the pytest suite (which also compiles a C program
# against the header and executes the notebooks). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

SWIFTNST_FETCH=${SWIFTNST_FETCH:-"vgg19 vgg16"} scripts/setup.sh

echo "== swift test"
swift test

echo "== pytest"
"$PYTHON" -m pytest python/tests "$@"
