"""Forward-over-forward: hyper-dual numbers. Per chunk one forward sweep carries the values,
c left lanes L (basis directions j0..j0+c, or the given V), all n right lanes R (the basis)
and c·n second-order lanes S, lane a·n + b the second-order tangent of the pair (ℓ_a, e_b):
S ← J_k S + ∇²f_k[L, R] at every layer. At the output H[j0 + a, b] = u·S[:, a·n + b].
No tape: each layer's saved values and g'' live in scratch while it is crossed. Its cost
grows as c·n lanes through every layer per chunk: O(n⁴) for a square chain."""

from __future__ import annotations

import numpy as np

from ..._jit import inlined, kernel
from ...model.counters import (
    BYTES_WORK,
    LAYER_STEPS,
    MADDS_ACCUMULATE,
    MADDS_TANGENT,
    MADDS_VALUE,
    SWEEPS_FORWARD,
)
from ...model.layers.dispatch import (
    W_OUT,
    layer_explicit,
    layer_pairs,
    layer_record,
    layer_record2,
    layer_tangent,
)
from ._sweeps import MADDS_CURVATURE


@inlined
def _lanes(buffer, k, w, c):
    return buffer[k % 2][: w * c].reshape((w, c))


@kernel
def run(table, params, max_width, first, top, chunk, seeded, V, u, x, H, counts):
    """H[j0:j0+c] for the left lanes (basis with ``seeded``, else the columns of V)."""
    n, N, K = x.shape[0], H.shape[0], table.shape[0]
    vals, scratch = np.empty((2, max_width)), np.empty((2, max_width))
    left, right = np.empty((2, max_width * chunk)), np.empty((2, max_width * n))
    second = np.empty((2, max_width * chunk * n))
    counts[BYTES_WORK] += (vals.size + scratch.size + left.size + right.size + second.size) * 8
    for j0 in range(0, N, chunk):
        c = min(chunk, N - j0)
        L, R = _lanes(left, 0, n, c), _lanes(right, 0, n, n)
        S = _lanes(second, 0, n, c * n)
        L[:, :] = 0.0
        R[:, :] = 0.0
        for j in range(n):
            R[j, j] = 1.0
        if seeded:
            for a in range(c):
                L[j0 + a, a] = 1.0
        else:
            L[:, :] = V[:, j0 : j0 + c]
        v = x
        for k in range(K):
            w, row = table[k, W_OUT], table[k]
            y, saved, curv = vals[(k + 1) % 2][:w], scratch[0], scratch[1]
            counts[MADDS_VALUE] += layer_record(row, params, v, y, saved)
            counts[MADDS_CURVATURE] += layer_record2(row, params, v, y, saved, curv)
            R_out = _lanes(right, k + 1, w, n)
            if k <= top:  # the right lanes are the basis: layer 0's Jacobian columns
                if k == 0:
                    counts[MADDS_ACCUMULATE] += layer_explicit(row, params, saved, 0, 0, R_out)
                else:
                    counts[MADDS_TANGENT] += layer_tangent(row, params, saved, R, R_out)
            S_out = _lanes(second, k + 1, w, c * n)
            if k >= first:
                if k == first:
                    S_out[:, :] = 0.0
                else:
                    counts[MADDS_TANGENT] += layer_tangent(row, params, saved, S, S_out)
                if k <= top:
                    counts[MADDS_CURVATURE] += layer_pairs(row, params, saved, curv, L, R,
                                                           R_out, S_out)
            if k < top:
                L_out = _lanes(left, k + 1, w, c)
                if seeded and k == 0:
                    counts[MADDS_ACCUMULATE] += layer_explicit(row, params, saved, 0, j0, L_out)
                else:
                    counts[MADDS_TANGENT] += layer_tangent(row, params, saved, L, L_out)
                L = L_out
            v, R, S = y, R_out, S_out
        for a in range(c):  # H[j0 + a, b] = u·S[:, a·n + b]
            for b in range(n):
                h = 0.0
                for i in range(u.shape[0]):
                    h += u[i] * S[i, a * n + b]
                H[j0 + a, b] = h
        counts[MADDS_ACCUMULATE] += c * n * u.shape[0]
        counts[SWEEPS_FORWARD] += 1
        counts[LAYER_STEPS] += K
