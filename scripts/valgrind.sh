#!/usr/bin/env bash
# Runs a small Python end-to-end use of the engine under valgrind memcheck and fails if any memory
# error (invalid read/write, use of uninitialised memory, invalid free, definite leak) has a frame in
# libswiftnst. CPython, NumPy and OpenBLAS noise is silenced by scripts/valgrind.supp; errors outside
# our library are counted and listed but do not fail the run.
#
#   scripts/valgrind.sh                # uses .build/release/libswiftnst.so (SWIFTNST_LIB_PATH overrides)
#
# The run: load a VGG-16 with random weights, create sessions, set content and two styles, take L-BFGS
# and Adam steps on a 16x20 image (16 pixels: the least relu5_1 needs), read the images back, call every layer operation, provoke the
# error paths (bad counts, NULL, freed handles), and free everything. It takes a few minutes: valgrind
# runs ~50x slower, so the script runs at low priority (nice 19).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PYTHON=${PYTHON:-python3}
# the interpreter itself, not a wrapper script such as a pyenv shim (valgrind would trace the shell)
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swiftnst-valgrind.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Weights are written before valgrind starts: generating 58 MB of random numbers under it is slow
# and tests nothing of ours.
PYTHONPATH="$REPO/python:$REPO/python/tests" "$PYTHON" - "$WORK/vgg16.safetensors" <<'EOF'
import sys
from reliability.weights_files import he_layers, write_st
write_st(sys.argv[1], he_layers("vgg16"))
EOF

cat > "$WORK/e2e.py" <<'EOF'
import ctypes, sys
import numpy as np
import swiftnst
from swiftnst import _bindings as b

model = swiftnst.Model(sys.argv[1])
rng = np.random.default_rng(0)
image = lambda h, w: model.preprocess(rng.random((h, w, 3), dtype=np.float32))
for optimizer in ("lbfgs", "adam"):
    with swiftnst.Session(model, 16, 20, optimizer=optimizer, lbfgs_history=3) as session:
        session.set_content(image(16, 20))
        session.add_style(image(16, 18), 1.0)
        session.add_style(image(20, 17), 0.5)
        session.set_image(image(16, 20))
        session.evaluate(image(16, 20))
        session.step(3)
        session.image, session.best_image
        session.clear_styles()
model.activations(image(16, 16), ["relu1_1", "pool2", "relu5_1"])
for call in (lambda: swiftnst.Session(model, 0, 20), lambda: model.activations(image(8, 8), ["nope"])):
    try:
        call()
    except (swiftnst.NSTError, ValueError):
        pass
free_model = swiftnst.Model(sys.argv[1])
handle = free_model._handle
free_model.close()
info = b.nst_model_info()
assert b.nst_model_get_info(handle, ctypes.byref(info)) == b.NST_ERR_INVALID_HANDLE
b.nst_model_free(handle)
model.close()
print("e2e done")
EOF

LIB=${SWIFTNST_LIB_PATH:-$REPO/.build/release}
echo "valgrind: library $LIB, log $WORK/valgrind.xml"
status=0
SWIFTNST_LIB_PATH="$LIB" PYTHONMALLOC=malloc PYTHONPATH="$REPO/python" OPENBLAS_NUM_THREADS=1 \
    nice -n "${NICE:-19}" valgrind --tool=memcheck --error-exitcode=0 --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes --num-callers=40 \
    --suppressions="$REPO/scripts/valgrind.supp" --xml=yes --xml-file="$WORK/valgrind.xml" \
    "$PYTHON" "$WORK/e2e.py" "$WORK/vgg16.safetensors" || status=$?
if [ "$status" -ne 0 ]; then
    echo "valgrind: the end-to-end script itself failed (exit $status)"; exit "$status"
fi

# Count the reported errors, and those with a frame in our library.
"$PYTHON" - "$WORK/valgrind.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
errors = ET.parse(sys.argv[1]).getroot().findall("error")
ours = [e for e in errors if any("libswiftnst" in (f.findtext("obj") or "") for f in e.iter("frame"))]
for error in ours:
    frames = [f.findtext("fn") or f.findtext("obj") or "?" for f in error.iter("frame")][:8]
    print(f"  OURS  {error.findtext('kind')}: {error.findtext('what') or error.findtext('xwhat/text')}\n        at " + "\n        at ".join(frames))
kinds, origins = {}, {}
for error in errors:
    kinds[error.findtext("kind")] = kinds.get(error.findtext("kind"), 0) + 1
    if error not in ours:  # where the others come from: the innermost frame's library
        top = next(error.iter("frame"), None)
        where = (top.findtext("obj") or "?").rsplit("/", 1)[-1] if top is not None else "?"
        origins[where] = origins.get(where, 0) + 1
print(f"valgrind: {len(errors)} unsuppressed errors in total {kinds or ''}, {len(ours)} in libswiftnst")
if origins:
    print("  outside our library, by innermost frame: " + ", ".join(f"{k} {v}" for k, v in sorted(origins.items())))
sys.exit(1 if ours else 0)
EOF
