"""The benchmark objective in PyTorch (CPU, float32), default (NCHW) or channels_last memory format.

Weights are frozen (no weight gradients, as in style transfer); only the image requires grad.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from problem import CONTENT_LAYERS, CONTENT_WEIGHT, STYLE_LAYERS, STYLE_WEIGHT, TV_WEIGHT, Problem


def make_evaluator(problem: Problem, threads: int, channels_last: bool = False):
    """Returns ``evaluate(x: np.ndarray [3,H,W]) -> (total loss, gradient np.ndarray [3,H,W])``."""
    torch.set_num_threads(threads)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    params = {layer.name: (torch.tensor(layer.weight).contiguous(memory_format=memory_format),
                           torch.tensor(layer.bias))
              for layer in problem.layers if layer.kind == "conv"}
    wanted = set(CONTENT_LAYERS) | set(STYLE_LAYERS)

    def features(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for layer in problem.layers:
            if layer.kind == "conv":
                x = F.conv2d(x, *params[layer.name], padding=1)
            elif layer.kind == "relu":
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2, 2)
            if layer.name in wanted:
                out[layer.name] = x
        return out

    def gram(f: torch.Tensor) -> torch.Tensor:
        _, c, h, w = f.shape
        flat = f.reshape(c, h * w)
        return flat @ flat.t() / (c * h * w)

    def image(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a)[None].contiguous(memory_format=memory_format)

    with torch.no_grad():
        content_targets = {n: f for n, f in features(image(problem.content)).items() if n in CONTENT_LAYERS}
        style_targets = {n: gram(f) for n, f in features(image(problem.style)).items() if n in STYLE_LAYERS}

    def evaluate(x_np: np.ndarray) -> tuple[float, np.ndarray]:
        x = image(x_np).requires_grad_(True)
        feats = features(x)
        content = CONTENT_WEIGHT * sum(torch.mean((feats[n] - t) ** 2) for n, t in content_targets.items())
        style = STYLE_WEIGHT * sum(torch.mean((gram(feats[n]) - t) ** 2) for n, t in style_targets.items())
        tv = TV_WEIGHT * 0.5 * (torch.sum((x[..., :, 1:] - x[..., :, :-1]) ** 2)
                                + torch.sum((x[..., 1:, :] - x[..., :-1, :]) ** 2))
        total = content + style + tv
        total.backward()
        return float(total.detach()), x.grad[0].contiguous().numpy()

    return evaluate
