"""``Session.set_temporal_target`` (``nst_session_set_temporal_target``) against NumPy: the loss is the mean
over the image's values of ``weights[p] * (x - target)**2`` and its gradient ``2 * weights * (x - target) / n``."""

from __future__ import annotations

import numpy as np
import pytest

from swiftnst import Model, NSTInvalidArgumentError, NSTShapeError, Session

SIDE = 32


@pytest.fixture(scope="module")
def session(vgg19_weights_path):
    with Model(vgg19_weights_path) as model, \
            Session(model, SIDE, SIDE + 4, content_weight=0, style_weight=0, tv_weight=0) as session:
        yield session


def test_loss_and_gradient_equal_numpy(session):
    rng = np.random.default_rng(4)
    x, target = (rng.normal(0, 50, (3, SIDE, SIDE + 4)).astype(np.float32) for _ in range(2))
    weights = rng.uniform(0, 2, (SIDE, SIDE + 4)).astype(np.float32)
    weights[:, :5] = 0                                   # "occluded" columns
    session.set_temporal_target(target, weights)
    losses, gradient = session.evaluate(x)
    difference = x.astype(np.float64) - target
    assert losses.temporal == pytest.approx((weights * difference ** 2).mean(), rel=1e-6)
    assert losses.total == pytest.approx(losses.temporal, rel=1e-12)
    np.testing.assert_allclose(gradient, 2 * weights * difference / x.size, rtol=1e-5, atol=1e-9)
    assert not gradient[:, :, :5].any()
    session.set_temporal_target(None, None)
    assert session.evaluate(x, gradient=False)[0].temporal == 0


def test_refused_arguments(session):
    target = np.zeros((3, SIDE, SIDE + 4), np.float32)
    with pytest.raises(NSTInvalidArgumentError, match="both"):
        session.set_temporal_target(target, None)
    with pytest.raises(NSTShapeError, match="weights"):
        session.set_temporal_target(target, np.ones((SIDE, SIDE), np.float32))
    with pytest.raises(NSTShapeError, match="target"):
        session.set_temporal_target(target[:, :-1], np.ones((SIDE - 1, SIDE + 4), np.float32))
    with pytest.raises(NSTInvalidArgumentError, match=">= 0"):
        session.set_temporal_target(target, -np.ones((SIDE, SIDE + 4), np.float32))
