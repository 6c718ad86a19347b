"""Reverse-over-forward: the backward sweep of a forward tangent sweep. Per chunk of c
directions one forward sweep records the values, the tape, the curvature slots and the
tangent lanes at every point up to layer t (the tape of the tangent program); its backward
sweep carries the tangent program's two adjoints, c rows each: ẋ̄ (the adjoint of the
tangents: u pulled back, once per lane) and x̄ (of the values: the Hessian rows), which
picks up (ẋ̄_k·∇²f_k)[ẋ_l] at every layer."""

from __future__ import annotations

import numpy as np

from ..._jit import kernel
from ...model.counters import BYTES_TAPE, BYTES_WORK, MADDS_ADJOINT, SWEEPS_BACKWARD, SWEEPS_FORWARD
from ...model.layers.dispatch import S_OFF, W_IN, layer_vjp
from ._sweeps import hessian_step, push_lanes, record_curved


@kernel
def run(table, params, tape_size, max_width, points, top, chunk, seeded, V, u, x, H, counts):
    """As ``forward_over_reverse.run``: rows of the Hessian of u·f for the lanes."""
    tape, curv = np.empty(tape_size), np.empty(tape_size)
    vals = np.empty((2, max_width))
    lanes = np.empty(points[top + 2] * chunk)
    adj, dots = np.empty((2, max_width * chunk)), np.empty((2, max_width * chunk))
    counts[BYTES_TAPE] += (2 * tape_size + lanes.size) * 8
    counts[BYTES_WORK] += (vals.size + adj.size + dots.size) * 8
    N, K, m = H.shape[0], table.shape[0], u.shape[0]
    for j0 in range(0, N, chunk):
        c = min(chunk, N - j0)
        record_curved(table, params, x, tape, curv, vals, counts)
        push_lanes(table, params, tape, V, seeded, j0, c, top, lanes, points, counts)
        D = dots[K % 2][: c * m].reshape((c, m))  # ẋ̄ at the output: u, for every lane
        for l in range(c):
            D[l, :] = u
        Z = adj[0][:0].reshape((0, 0))
        for k in range(K - 1, -1, -1):
            if k <= top:
                Z = hessian_step(table, params, tape, curv, lanes, points, k, top, c, D, Z,
                                 adj, counts)
            if k >= 1:
                D_next = dots[k % 2][: c * table[k, W_IN]].reshape((c, table[k, W_IN]))
                counts[MADDS_ADJOINT] += layer_vjp(table[k], params, tape[table[k, S_OFF] :],
                                                   D, D_next)
                D = D_next
        H[j0 : j0 + c, :] = Z
        counts[SWEEPS_FORWARD] += 1
        counts[SWEEPS_BACKWARD] += 1
