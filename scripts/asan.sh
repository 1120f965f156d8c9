#!/usr/bin/env bash
# Runs the Swift test suites (NSTEngineTests, CBridgeTests) under AddressSanitizer: out-of-bounds
# reads/writes, use after free and double free in the engine or the C bridge abort the run with a
# report. Builds into its own scratch directory (.build-asan, git-ignored) so the normal debug and
# release builds are untouched, at low CPU priority because the machine is shared.
#
#   scripts/asan.sh                      # everything
#   scripts/asan.sh --filter CBridgeTests
#
# Exit status: swift test's (non-zero on a sanitizer report or a failing test).
set -euo pipefail
cd "$(dirname "$0")/.."

# halt_on_error: the first report ends the run, so it cannot scroll away; leak detection is off
# because the Swift runtime and XCTest keep metadata caches alive until exit (reported as leaks on
# Linux); leaks of our own objects are measured by python/tests/reliability/test_memory.py instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:detect_stack_use_after_return=1:strict_string_checks=1}"

exec nice -n "${NICE:-19}" swift test --sanitize=address --scratch-path .build-asan "$@"
