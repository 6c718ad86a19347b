"""The hand-written counterparts of the floor benchmarks (``test_bench_floor``): the n = 8
chain of four dense 8 × 8 layers each followed by tanh, then dense:1, written out as one
``@njit`` function each with explicit loops, as someone writing it by hand would, its
parameters stacked: W (4, 8, 8), b (4, 8), and the last layer's w (8,), c (1,)."""

from __future__ import annotations

import numpy as np
from numba import njit

import chainbench as cb

SPEC = "dense:8 tanh dense:8 tanh dense:8 tanh dense:8 tanh dense:1"
N = 8


def floor_chain() -> tuple[cb.Chain, np.ndarray, tuple]:
    """The chain (seed 0), an input point, and its parameters as the hand code takes them."""
    chain = cb.Chain.from_spec(SPEC, N, seed=0)
    dense = [layer for layer in chain.layers if isinstance(layer, cb.Dense)]
    W = np.ascontiguousarray(np.stack([d.W for d in dense[:-1]]))
    b = np.ascontiguousarray(np.stack([d.b for d in dense[:-1]]))
    w, c = np.ascontiguousarray(dense[-1].W[0]), np.ascontiguousarray(dense[-1].b)
    return chain, np.random.default_rng(1).standard_normal(N), (W, b, w, c)


@njit(cache=True)
def hand_value(W, b, w, c, x):
    """f(x): each hidden layer tanh(W_k h + b_k), then w · h + c."""
    K, width = b.shape
    h, z = x.copy(), np.empty(width)
    for k in range(K):
        for i in range(width):
            s = b[k, i]
            for j in range(h.shape[0]):
                s += W[k, i, j] * h[j]
            z[i] = np.tanh(s)
        h, z = z, h
    y = np.empty(1)
    s = c[0]
    for j in range(width):
        s += w[j] * h[j]
    y[0] = s
    return y


@njit(cache=True)
def hand_gradient(W, b, w, c, x):
    """∇f(x) by one forward sweep that keeps each layer's output, then one reverse sweep."""
    K, width = b.shape
    hs = np.empty((K + 1, width))
    for j in range(x.shape[0]):
        hs[0, j] = x[j]
    for k in range(K):
        for i in range(width):
            s = b[k, i]
            for j in range(width):
                s += W[k, i, j] * hs[k, j]
            hs[k + 1, i] = np.tanh(s)
    g, d = w.copy(), np.empty(width)
    for k in range(K - 1, -1, -1):
        for i in range(width):  # through tanh: its derivative 1 - tanh²
            d[i] = g[i] * (1.0 - hs[k + 1, i] * hs[k + 1, i])
        for j in range(width):  # through W_k: dᵀ W_k
            s = 0.0
            for i in range(width):
                s += d[i] * W[k, i, j]
            g[j] = s
    return g
