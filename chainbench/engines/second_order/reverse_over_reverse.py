"""Reverse-over-reverse: the Hessian's rows as the adjoints of the gradient's own sweep, on
the operation-level tape. One recording sweep keeps every primitive operation (as
``op-reverse`` does) and, for the curved ones, their second partials; one backward sweep
computes the gradient ḡ of u·f and keeps each entry's output adjoint t_e — the tape of the
gradient's own operations. Then, per chunk of c directions w, the reverse of that backward
sweep runs forward through the entries: the adjoints ŷ of the gradient's variables move as
tangents do (ŷ_out = ∂y/∂a · ŷ_a + ∂y/∂b · ŷ_b), and each curved entry hands its operands
t_e · ∇²y · (ŷ_a, ŷ_b); the reverse of the recording sweep then pulls those back through
the entries, and the inputs' adjoints are H w."""

from __future__ import annotations

import numpy as np

from ..._jit import inlined, kernel
from ...model.counters import (
    BYTES_TAPE,
    BYTES_WORK,
    LAYER_STEPS,
    MADDS_ADJOINT,
    MADDS_TANGENT,
    MADDS_VALUE,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
    TAPE_ENTRIES,
)
from ...model.ops import (
    CURVED,
    CURVED_BYTES,
    ENTRIES,
    ENTRY_BYTES,
    OUT,
    PARTIALS,
    A,
    B,
    record2_state,
)
from ..oplevel._sweeps import ENTRIES as TAPE_LENGTH
from ..oplevel._sweeps import SINK, SLOTS, pull, run_lowerings
from ._sweeps import MADDS_CURVATURE


@inlined
def _record(table, params, lay, n_curved, x, index, partial, second, where):
    """The recording sweep: every operation on the tape, the curved ones' second partials
    kept; returns (first output slot, partials on the tape)."""
    vals = np.zeros(lay[SLOTS])
    vals[: x.shape[0]] = x
    cursor = np.zeros(3, dtype=np.int64)
    first = run_lowerings(table, params, lay, record2_state(vals, index, partial, cursor,
                                                            lay[SINK], second, where))
    if cursor[ENTRIES] != index.shape[0] or cursor[CURVED] != n_curved:
        raise RuntimeError("a lowering emitted another number of operations than its "
                           "layer's op_counts says")
    return first, cursor[PARTIALS]


@inlined
def _gradient(index, partial, first, u, bar, t):
    """The gradient's sweep of u·f, keeping each entry's output adjoint in t."""
    bar[:] = 0.0
    bar[first : first + u.shape[0]] = u
    for e in range(index.shape[0] - 1, -1, -1):
        o, a, b = index[e, OUT], index[e, A], index[e, B]
        g = bar[o]
        bar[o] = 0.0
        t[e] = g
        bar[a] += partial[e, 0] * g
        bar[b] += partial[e, 1] * g


@inlined
def _gradient_reversed(index, partial, t, second, where, yhat, kept, c):
    """The gradient's sweep reversed, forward through the entries: ŷ moves as tangents do,
    and curved entry q keeps t_e · ∇²y · (ŷ_a, ŷ_b) for each of the c lanes."""
    q = 0
    for e in range(index.shape[0]):
        o, a, b = index[e, OUT], index[e, A], index[e, B]
        pa, pb = partial[e, 0], partial[e, 1]
        if q < kept.shape[0] and where[q] == e:  # before ŷ_out may overwrite an operand
            g, haa, hab, hbb = t[e], second[q, 0], second[q, 1], second[q, 2]
            for l in range(c):
                ya, yb = yhat[a, l], yhat[b, l]
                kept[q, 0, l] = g * (haa * ya + hab * yb)
                kept[q, 1, l] = g * (hab * ya + hbb * yb)
            q += 1
        for l in range(c):
            yhat[o, l] = pa * yhat[a, l] + pb * yhat[b, l]


@inlined
def _record_reversed(index, partial, where, kept, vhat, c):
    """The recording sweep reversed: c adjoint rows pulled back through the entries, each
    curved entry's kept pair added to its operands'."""
    q = kept.shape[0] - 1
    for e in range(index.shape[0] - 1, -1, -1):
        pull(index, partial, vhat, e, c)
        if q >= 0 and where[q] == e:
            a, b = index[e, A], index[e, B]
            for l in range(c):
                vhat[a, l] += kept[q, 0, l]
                vhat[b, l] += kept[q, 1, l]
            q -= 1


@kernel
def run(table, params, lay, n_curved, curvature, chunk, seeded, V, u, x, H, counts):
    """H[j0:j0+c] = rows of the Hessian of u·f at x for the lanes, ``chunk`` per sweep: the
    basis directions 0..n−1 (``seeded``), or the columns of V (n, N) given. H is (N, n).
    ``n_curved`` curved entries apply ``curvature`` second partials to one lane in all."""
    E, slots, n = lay[TAPE_LENGTH], lay[SLOTS], x.shape[0]
    index, partial = np.empty((E, 4), dtype=np.int32), np.empty((E, 2))
    # a row more than the curved entries: a stray one (op_counts short of it) lands there
    # and is refused, never written outside
    second, where = np.empty((n_curved + 1, 3)), np.empty(n_curved + 1, dtype=np.int64)
    first, parts = _record(table, params, lay, n_curved, x, index, partial, second, where)
    bar, t = np.empty(slots), np.empty(E)
    _gradient(index, partial, first, u, bar, t)
    yhat, vhat = np.empty((slots, chunk)), np.empty((slots, chunk))
    kept = np.empty((n_curved, 2, chunk))  # each curved entry's pair, per lane
    _count_once(counts, table.shape[0], E, parts, n_curved,
                E * (ENTRY_BYTES + 8) + n_curved * CURVED_BYTES + kept.size * 8,
                (slots + bar.size + yhat.size + vhat.size) * 8)
    for j0 in range(0, H.shape[0], chunk):
        c = min(chunk, H.shape[0] - j0)
        yhat[:, :] = 0.0
        for l in range(c):  # ŷ on the gradient's outputs (slots 0…n−1): the directions
            if seeded:
                yhat[j0 + l, l] = 1.0
            else:
                for j in range(n):
                    yhat[j, l] = V[j, j0 + l]
        _gradient_reversed(index, partial, t, second, where, yhat, kept, c)
        vhat[:, :] = 0.0
        _record_reversed(index, partial, where, kept, vhat, c)
        for l in range(c):
            for j in range(n):
                H[j0 + l, j] = vhat[j, l]
        counts[SWEEPS_FORWARD] += 1
        counts[SWEEPS_BACKWARD] += 1
        counts[MADDS_TANGENT] += c * parts
        counts[MADDS_ADJOINT] += c * parts
        counts[MADDS_CURVATURE] += c * curvature


@inlined
def _count_once(counts, layers, E, parts, n_curved, tape_bytes, work_bytes):
    """The recording and gradient sweeps' counters."""
    counts[SWEEPS_FORWARD] += 1
    counts[SWEEPS_BACKWARD] += 1
    counts[LAYER_STEPS] += layers
    counts[TAPE_ENTRIES] += E
    counts[MADDS_VALUE] += E
    counts[MADDS_ADJOINT] += parts
    counts[MADDS_CURVATURE] += n_curved
    counts[BYTES_TAPE] += tape_bytes
    counts[BYTES_WORK] += work_bytes
