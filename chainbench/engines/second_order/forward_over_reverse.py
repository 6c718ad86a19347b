"""Forward-over-reverse: the Hessian's rows as derivatives of the gradient's backward sweep
along tangent lanes (dual numbers over the tape). One recording sweep keeps the values' tape
and curvature slots, one backward sweep keeps the gradient row ȳ_k at every point; then per
chunk of c directions a tangent sweep keeps the lanes at every point up to layer t, and a
backward sweep pulls c rows from layer t down, each adding (ȳ_k·∇²f_k)[ẋ_l] at layer k:
Σ_k J_{<k}ᵀ (ȳ_k·∇²f_k) J_{<k} ẋ, the Hessian times the lanes."""

from __future__ import annotations

import numpy as np

from ..._jit import kernel
from ...model.counters import BYTES_TAPE, BYTES_WORK, SWEEPS_BACKWARD, SWEEPS_FORWARD
from ._sweeps import gradient_rows, hessian_step, push_lanes, record_curved, row_at


@kernel
def run(table, params, tape_size, max_width, points, top, chunk, seeded, V, u, x, H, counts):
    """H[j0:j0+c] = rows of the Hessian of u·f at x for the lanes, ``chunk`` per sweep: the
    basis directions 0..n−1 (``seeded``), or the columns of V (n, N) given. H is (N, n)."""
    tape, curv = np.empty(tape_size), np.empty(tape_size)
    vals = np.empty((2, max_width))
    record_curved(table, params, x, tape, curv, vals, counts)
    bars = np.empty(points[-1])
    gradient_rows(table, params, tape, u, bars, points, counts)
    counts[SWEEPS_FORWARD] += 1
    counts[SWEEPS_BACKWARD] += 1
    lanes = np.empty(points[top + 2] * chunk)
    adj = np.empty((2, max_width * chunk))
    counts[BYTES_TAPE] += (2 * tape_size + bars.size + lanes.size) * 8
    counts[BYTES_WORK] += (vals.size + adj.size) * 8
    N = H.shape[0]
    for j0 in range(0, N, chunk):
        c = min(chunk, N - j0)
        push_lanes(table, params, tape, V, seeded, j0, c, top, lanes, points, counts)
        Z = adj[0][:0].reshape((0, 0))
        for k in range(top, -1, -1):
            Z = hessian_step(table, params, tape, curv, lanes, points, k, top, c,
                             row_at(bars, points, k + 1), Z, adj, counts)
        H[j0 : j0 + c, :] = Z
        counts[SWEEPS_FORWARD] += 1
        counts[SWEEPS_BACKWARD] += 1
