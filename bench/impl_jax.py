"""The benchmark objective in JAX (CPU, float32): ``jit(value_and_grad(objective))``."""

from __future__ import annotations

import numpy as np

from problem import CONTENT_LAYERS, CONTENT_WEIGHT, STYLE_LAYERS, STYLE_WEIGHT, TV_WEIGHT, Problem


def make_evaluator(problem: Problem, threads: int):
    """Returns ``evaluate(x: np.ndarray [3,H,W]) -> (total loss, gradient np.ndarray [3,H,W])``."""
    # XLA's CPU thread pool sizes itself from the visible cores (all of them: `threads` is not settable
    # per process in JAX); the benchmark machine's 2 cores are what every framework gets.
    del threads
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    params = {layer.name: (jnp.asarray(layer.weight), jnp.asarray(layer.bias))
              for layer in problem.layers if layer.kind == "conv"}
    wanted = set(CONTENT_LAYERS) | set(STYLE_LAYERS)

    def features(x):
        out = {}
        x = x[None]
        for layer in problem.layers:
            if layer.kind == "conv":
                w, b = params[layer.name]
                x = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)),
                                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
                x = x + b[None, :, None, None]
            elif layer.kind == "relu":
                x = jnp.maximum(x, 0)
            else:
                x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            if layer.name in wanted:
                out[layer.name] = x[0]
        return out

    def gram(f):
        c, h, w = f.shape
        flat = f.reshape(c, h * w)
        return flat @ flat.T / (c * h * w)

    content_feats = jax.jit(features)(jnp.asarray(problem.content))
    style_feats = jax.jit(features)(jnp.asarray(problem.style))
    content_targets = {n: content_feats[n] for n in CONTENT_LAYERS}
    style_targets = {n: gram(style_feats[n]) for n in STYLE_LAYERS}

    def objective(x):
        feats = features(x)
        content = CONTENT_WEIGHT * sum(jnp.mean((feats[n] - t) ** 2) for n, t in content_targets.items())
        style = STYLE_WEIGHT * sum(jnp.mean((gram(feats[n]) - t) ** 2) for n, t in style_targets.items())
        tv = TV_WEIGHT * 0.5 * (jnp.sum((x[:, :, 1:] - x[:, :, :-1]) ** 2) + jnp.sum((x[:, 1:, :] - x[:, :-1, :]) ** 2))
        return content + style + tv

    value_and_grad = jax.jit(jax.value_and_grad(objective))

    def evaluate(x_np: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = value_and_grad(jnp.asarray(x_np))
        grad = np.asarray(jax.block_until_ready(grad))
        return float(loss), grad

    return evaluate
