"""The sweeps the second-order engines share: recording values with the curvature slots,
one gradient row kept at every point, tangent lanes pushed to layer t and kept at every
point (the tape of the tangent program), and one step of the Hessian rows' backward sweep.
Points: point k is layer k's input, point K the output; ``points[k]`` is where point k
starts in a flat buffer holding one entry (or c lanes) per point."""

from __future__ import annotations

from ..._jit import inlined
from ...model.counters import (
    LAYER_STEPS,
    MADDS_ACCUMULATE,
    MADDS_ADJOINT,
    MADDS_TANGENT,
    MADDS_VALUE,
    N_COUNTERS,
    TAPE_ENTRIES,
)
from ...model.layers.dispatch import (
    S_OFF,
    W_IN,
    W_OUT,
    layer_curvature,
    layer_explicit,
    layer_record,
    layer_record2,
    layer_tangent,
    layer_vjp,
)

#: The counter slot of second-order multiply-adds (g'' recorded, curvature lanes, pairs),
#: after the first-order slots (``model.counters``).
MADDS_CURVATURE = N_COUNTERS
N_SECOND_COUNTERS = N_COUNTERS + 1


@inlined
def record_curved(table, params, x, tape, curv, vals, counts):
    """Values through every layer, each writing its tape slot and its curvature slot (laid
    out alike); returns a view of the output."""
    v = x
    for k in range(table.shape[0]):
        y = vals[k % 2][: table[k, W_OUT]]
        s = table[k, S_OFF]
        counts[MADDS_VALUE] += layer_record(table[k], params, v, y, tape[s:])
        counts[MADDS_CURVATURE] += layer_record2(table[k], params, v, y, tape[s:], curv[s:])
        v = y
    counts[LAYER_STEPS] += table.shape[0]
    counts[TAPE_ENTRIES] += table.shape[0]
    return v


@inlined
def at(buffer, points, k, c):
    """The (w_k, c) block of point k in a flat buffer of c entries per point."""
    return buffer[points[k] * c : points[k + 1] * c].reshape((points[k + 1] - points[k], c))


@inlined
def row_at(bars, points, k):
    """Point k's entry of a flat buffer of one entry per point, as one row (1, w_k)."""
    return bars[points[k] : points[k + 1]].reshape((1, points[k + 1] - points[k]))


@inlined
def gradient_rows(table, params, tape, u, bars, points, counts):
    """ȳ at points K down to 1 into ``bars`` (one entry per point): u, then u J_K … J_2."""
    K = table.shape[0]
    bars[points[K] : points[K + 1]] = u
    for k in range(K - 1, 0, -1):
        Y_bar = row_at(bars, points, k + 1)
        X_bar = row_at(bars, points, k)
        counts[MADDS_ADJOINT] += layer_vjp(table[k], params, tape[table[k, S_OFF] :], Y_bar, X_bar)


@inlined
def push_lanes(table, params, tape, V, seeded, j0, c, top, lanes, points, counts):
    """Tangent lanes at points 0..top+1 into ``lanes`` (c per point): at point 0 the given
    lanes V, or (``seeded``) the basis columns j0..j0+c, whose image through layer 0 is its
    Jacobian's columns, written out; then J_k from the tape."""
    X = at(lanes, points, 0, c)
    if seeded:
        X[:, :] = 0.0
        for l in range(c):
            X[j0 + l, l] = 1.0
    else:
        X[:, :] = V
    for k in range(top + 1):
        Y = at(lanes, points, k + 1, c)
        saved = tape[table[k, S_OFF] :]
        if seeded and k == 0:
            counts[MADDS_ACCUMULATE] += layer_explicit(table[0], params, saved, 0, j0, Y)
        else:
            counts[MADDS_TANGENT] += layer_tangent(table[k], params, saved, X, Y)
        X = Y


@inlined
def hessian_step(table, params, tape, curv, lanes, points, k, top, c, Y_bar, Z, adj, counts):
    """The Hessian rows at point k from those at point k+1 (Z; none at k = top): Z J_k plus
    layer k's curvature along the lanes, with adjoint rows Y_bar at point k+1. Returns them,
    a view of adj[k % 2]."""
    w = table[k, W_IN]
    Z_new = adj[k % 2][: c * w].reshape((c, w))
    s = table[k, S_OFF]
    if k == top:
        Z_new[:, :] = 0.0
    else:
        counts[MADDS_ADJOINT] += layer_vjp(table[k], params, tape[s:], Z, Z_new)
    counts[MADDS_CURVATURE] += layer_curvature(
        table[k], params, tape[s:], curv[s:], at(lanes, points, k, c),
        at(lanes, points, k + 1, c), Y_bar, Z_new)
    return Z_new
