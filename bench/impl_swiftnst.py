"""The benchmark objective in swiftnst: ``Session.evaluate`` (engine in Swift, called through ctypes)."""

from __future__ import annotations

import numpy as np

from problem import CONTENT_LAYERS, CONTENT_WEIGHT, STYLE_LAYERS, STYLE_WEIGHT, TV_WEIGHT, Problem


def make_evaluator(problem: Problem, threads: int):
    """Returns ``evaluate(x: np.ndarray [3,H,W]) -> (total loss, gradient np.ndarray [3,H,W])``."""
    import swiftnst

    model = swiftnst.Model(problem.weights_path)
    session = swiftnst.Session(
        model, problem.size, problem.size, content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
        content_weight=CONTENT_WEIGHT, style_weight=STYLE_WEIGHT, tv_weight=TV_WEIGHT, threads=threads)
    session.set_content(problem.content)
    session.add_style(problem.style)

    def evaluate(x_np: np.ndarray) -> tuple[float, np.ndarray]:
        losses, grad = session.evaluate(x_np)
        return losses.total, grad

    evaluate.session = session  # kept alive with the evaluator; used by profile.py
    evaluate.model = model
    return evaluate
