"""Hand-written numpy (BLAS) Jacobians of the standard chain n → [dense, tanh]×d → dense(m):
the yardstick the engines' speed is compared with."""

from __future__ import annotations

import numpy as np

from ...model.chain import Chain
from ...model.layers import Dense, Tanh


def standard_chain(n: int, m: int, depth: int = 4, seed: int = 0) -> Chain:
    return Chain.from_spec("dense:%d tanh " % n * depth + f"dense:{m}", n, seed=seed)


def _dense_tanh(chain: Chain):
    layers = chain.layers
    if not (all(isinstance(l, Dense) for l in layers[0::2])
            and all(isinstance(l, Tanh) for l in layers[1::2]) and len(layers) % 2):
        raise ValueError("hand-written Jacobians cover [dense, tanh]* dense chains only")
    return [(l.W, l.b) for l in layers[0::2]]


def numpy_reverse(chain: Chain, x: np.ndarray) -> np.ndarray:
    """Forward pass keeping tanh', then G ← (G · diag(tanh')) W from the output back."""
    params = _dense_tanh(chain)
    h, slopes = x, []
    for W, b in params[:-1]:
        h = np.tanh(W @ h + b)
        slopes.append(1.0 - h * h)
    G = params[-1][0]
    for (W, _), s in zip(params[-2::-1], slopes[::-1]):
        G = (G * s) @ W
    return G


def numpy_forward(chain: Chain, x: np.ndarray) -> np.ndarray:
    """T ← diag(tanh') W T from the input to the output, starting at T = W_1 (not W_1 · I)."""
    params = _dense_tanh(chain)
    if len(params) == 1:
        return params[0][0].copy()
    W, b = params[0]
    h = np.tanh(W @ x + b)
    T = (1.0 - h * h)[:, None] * W
    for W, b in params[1:-1]:
        h = np.tanh(W @ h + b)
        T = (1.0 - h * h)[:, None] * (W @ T)
    return params[-1][0] @ T
