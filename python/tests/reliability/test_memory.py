"""No leaks across many create/free cycles: the resident set size (RSS) after 200 cycles of loading
and freeing a model, or of creating, using and freeing a session, stays where it was after a
warm-up. Measured in a child process, so the baseline is not disturbed by the rest of the suite.

Tolerance: 16 MB over 200 cycles. A leaked model would cost its 58 MB of weights per cycle (11 GB in
total) and a leaked session at least its images, activations and L-BFGS history (hundreds of kB per
cycle at 16x16, tens of MB in total), so the tolerance is far below any real leak and far above
allocator noise (glibc keeps freed small blocks for reuse).
"""

from __future__ import annotations

import json

import pytest

from .conftest import assert_clean_exit, run_python

CYCLES = 200
WARMUP = 20
TOLERANCE_MB = 16.0

_MEASURE = """
import gc, json, os, sys
import numpy as np
import swiftnst

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

path = sys.argv[1] if len(sys.argv) > 1 else {path!r}
model = swiftnst.Model(path)
rng = np.random.default_rng(0)
images = [model.preprocess(rng.random((16, 16, 3), dtype=np.float32)) for _ in range(3)]

def model_cycle():
    m = swiftnst.Model(path)
    m.activations(images[0], ["relu1_1"])
    m.close()

def session_cycle():
    s = swiftnst.Session(model, 16, 16, lbfgs_history=5)
    s.set_content(images[0])
    s.add_style(images[1])
    s.set_image(images[2])
    s.step(1)
    s.best_image
    s.close()

def forgotten_session_cycle():  # never closed: freed by garbage collection
    s = swiftnst.Session(model, 16, 16)
    s.set_content(images[0])

result = {{}}
for name, cycle in [("model", model_cycle), ("session", session_cycle), ("unclosed_session", forgotten_session_cycle)]:
    for _ in range({warmup}):
        cycle()
    gc.collect()
    before = rss_mb()
    for _ in range({cycles}):
        cycle()
    gc.collect()
    result[name] = [before, rss_mb()]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def rss(swiftnst_engine, vgg16_random_path):
    result = run_python(_MEASURE.format(path=str(vgg16_random_path), warmup=WARMUP, cycles=CYCLES), timeout=600)
    assert_clean_exit(result)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["model", "session", "unclosed_session"])
def test_rss_is_flat_over_200_create_free_cycles(rss, kind):
    before, after = rss[kind]
    print(f"{kind}: RSS {before:.1f} MB -> {after:.1f} MB over {CYCLES} cycles")
    assert after - before < TOLERANCE_MB, (
        f"{kind}: RSS grew from {before:.1f} MB to {after:.1f} MB over {CYCLES} cycles "
        f"(tolerance {TOLERANCE_MB} MB)")
