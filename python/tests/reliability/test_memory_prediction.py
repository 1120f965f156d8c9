"""Strip evaluation and the peak-memory prediction through the C ABI (``Session.set_strips``,
``Session.predict_peak_bytes``).

The prediction is checked against the memory a real ``step`` takes, measured in a child process: the
growth of the resident set from just after the model is loaded (current RSS, ``VmRSS``) to the
high-water mark after the steps (``VmHWM``: not ``ru_maxrss``, which Linux carries across ``fork`` and
``exec``, so a child of a large pytest reported pytest's size). The baseline is the current RSS (after one small
warm-up evaluation, which brings one-time process state in) rather than the high-water mark after
loading, because loading peaks above where it settles (the file is validated while mapped); a
high-water baseline would hide ~70 MB of the session's growth. 

Tolerance: 15% of the prediction plus 16 MB. The prediction counts the engine's float buffers; the
rest (the Python images handed in, allocator headers and fragmentation, thread stacks) measured
1-2% at these sizes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import assert_clean_exit, run_python

MB = 2**20

_MEASURE = """
import json, resource, sys
import numpy as np
import swiftnst

path, height, width, split, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] or None, int(sys.argv[5])
model = swiftnst.Model(path)
# One small evaluation first, so one-time process state (BLAS and worker-thread buffers, lazily mapped
# library code) is in the baseline: the prediction covers the session's own buffers.
with swiftnst.Session(model, 32, 32) as warm_up:
    warm_up.set_content(np.zeros((3, 32, 32), np.float32))
    warm_up.add_style(np.ones((3, 32, 32), np.float32))
    warm_up.evaluate(np.zeros((3, 32, 32), np.float32))
with open("/proc/self/status") as status:
    baseline = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) * 1024
rng = np.random.default_rng(0)
session = swiftnst.Session(model, height, width, lbfgs_history=1)
session.set_strips(split, rows)
content = rng.standard_normal((3, height, width), dtype=np.float32) * 50
session.set_content(content)
session.add_style(rng.standard_normal((3, height, width), dtype=np.float32) * 50)
session.set_image(content)
session.step(2)  # the second step holds one L-BFGS pair, the history's full length
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024
print(json.dumps({{"growth": peak - baseline, "predicted": session.predict_peak_bytes(split, rows)}}))
"""


@pytest.mark.parametrize("height, width, split, rows", [
    (384, 384, None, 0), (384, 384, "pool3", 128), (768, 512, None, 0), (768, 512, "pool3", 128)])
def test_prediction_matches_the_measured_peak_of_a_step(swiftnst_engine, vgg16_random_path, height, width, split, rows):
    args = [str(vgg16_random_path), str(height), str(width), split or "", str(rows)]
    code = "import sys; sys.argv[1:] = " + repr(args) + "\n" + _MEASURE.format()
    result = run_python(code, timeout=600)
    assert_clean_exit(result)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    growth, predicted = measured["growth"], measured["predicted"]
    print(f"{height}x{width} split {split} rows {rows}: measured {growth / MB:.0f} MB, predicted {predicted / MB:.0f} MB")
    assert abs(growth - predicted) <= 0.15 * predicted + 16 * MB, (growth / MB, predicted / MB)


def test_strips_give_the_whole_image_values_through_the_abi(swiftnst_engine, model):
    height, width = 70, 53
    rng = np.random.default_rng(1)
    images = [rng.standard_normal((3, height, width), dtype=np.float32) * 50 for _ in range(3)]
    results = []
    for split, rows in [(None, 0), ("pool2", 8), ("pool4", 32)]:
        with swiftnst_engine.Session(model, height, width) as session:
            session.set_strips(split, rows)
            session.set_content(images[0])
            session.add_style(images[1])
            results.append(session.evaluate(images[2]))
    (whole_losses, whole_gradient), *strips = results
    scale = np.abs(whole_gradient).max()
    for losses, gradient in strips:
        for term in ("content", "style", "tv"):
            assert getattr(losses, term) == pytest.approx(getattr(whole_losses, term), rel=1e-5)
        np.testing.assert_allclose(gradient / scale, whole_gradient / scale, rtol=0, atol=1e-5)


@pytest.mark.parametrize("split, rows, message", [
    ("relu3_1", 16, "pooling layer"), ("pool3", 8, "multiple of 16"), ("pool3", 0, "multiple of 16"),
    ("pool1", 8196, "up to 8192"), ("pool3", -16, ">= 0"), ("x" * 100, 16, "longer than"),
    ("pool9", 16, "pool9")])
def test_bad_strip_settings_are_refused_and_change_nothing(swiftnst_engine, model, split, rows, message):
    swiftnst = swiftnst_engine
    with swiftnst.Session(model, 64, 64) as session:
        whole = session.predict_peak_bytes()
        with pytest.raises(swiftnst.NSTError, match=message):
            session.set_strips(split, rows)
        with pytest.raises(swiftnst.NSTError, match=message):
            session.predict_peak_bytes(split, rows)
        assert session.predict_peak_bytes() == whole


def test_prediction_follows_the_history_and_the_strips(swiftnst_engine, model):
    swiftnst = swiftnst_engine
    with swiftnst.Session(model, 512, 384, lbfgs_history=10) as session:
        image_bytes = 3 * 512 * 384 * 4
        # Two image-sized arrays per L-BFGS pair, and the pairs' kept inner products: (2m)² float64.
        products = 8 * (4 * 15**2 - 4 * 10**2)
        assert session.predict_peak_bytes(lbfgs_history=15) - session.predict_peak_bytes() == 10 * image_bytes + products
        assert session.predict_peak_bytes(lbfgs_history=10) == session.predict_peak_bytes()
        whole = session.predict_peak_bytes()
        assert session.predict_peak_bytes("pool3", 64) < session.predict_peak_bytes("pool3", 256) < whole
        session.set_strips("pool3", 64)
        assert session.predict_peak_bytes() == whole  # the arguments choose, not the session's setting
        with pytest.raises(swiftnst.NSTError, match="too large"):
            session.predict_peak_bytes(lbfgs_history=2**62)
