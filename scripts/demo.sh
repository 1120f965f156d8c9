#!/usr/bin/env bash
# The README's main command: a real style transfer in a few minutes on 2 cores, with images that
# exist on a fresh machine (scikit-image's "chelsea" cat as content, a swirling night-sky painting
# rendered by swiftnst.demo_images as style). Writes under output/ (or $1):
#   demo_inputs/{chelsea,swirls}.png   the two inputs
#   chelsea_swirls.jpg                 the result
#   chelsea_swirls_snapshots/          a snapshot every 20 steps and their grid, iterations.png
# Assumes the package and weights are installed (scripts/setup.sh). Extra arguments after the
# output directory go to the swiftnst command (e.g. scripts/demo.sh output --preserve-colors).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${1:-output}
shift || true

"$PYTHON" -m swiftnst.demo_images "$OUT/demo_inputs"
time "$PYTHON" -m swiftnst "$OUT/demo_inputs/chelsea.png" "$OUT/demo_inputs/swirls.png" \
    -o "$OUT/chelsea_swirls.jpg" --image-size 256 --iterations 100 \
    --save-every 20 --print-every 20 "$@"
