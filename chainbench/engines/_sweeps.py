"""The sweep kernels several engines share: recording layers' tape slots over a range of
layers, and pulling cotangent rows back through a range, from given rows or from the
rows of the last layer's Jacobian. Inlined into each engine's own kernels."""

from __future__ import annotations

from .._jit import inlined
from ..model.counters import LAYER_STEPS, MADDS_ACCUMULATE, MADDS_ADJOINT, MADDS_VALUE, TAPE_ENTRIES
from ..model.layers.dispatch import S_OFF, W_IN, W_OUT, layer_explicit, layer_record, layer_vjp


@inlined
def record_range(table, params, lo, hi, x, tape, base, counts, vals):
    """Values through layers lo..hi-1, each writing its VJP needs into its tape slot, which
    starts at tape[S_OFF - base] (base 0: a whole tape; S_OFF of lo: a segment's tape).
    Returns a view of the output."""
    v = x
    for k in range(lo, hi):
        y = vals[k % 2][: table[k, W_OUT]]
        counts[MADDS_VALUE] += layer_record(table[k], params, v, y, tape[table[k, S_OFF] - base :])
        v = y
    counts[LAYER_STEPS] += hi - lo
    counts[TAPE_ENTRIES] += hi - lo
    return v


@inlined
def pull_range(table, params, lo, hi, tape, base, U, adj, counts):
    """Cotangent rows U (r, n_hi) back through layers hi-1..lo, tape slots placed as in
    ``record_range``; returns a view of U J[lo:hi] (r, n_lo)."""
    r = U.shape[0]
    Y_bar = U
    for k in range(hi - 1, lo - 1, -1):
        w = table[k, W_IN]
        X_bar = adj[k % 2][: r * w].reshape((r, w))
        counts[MADDS_ADJOINT] += layer_vjp(table[k], params, tape[table[k, S_OFF] - base :],
                                           Y_bar, X_bar)
        Y_bar = X_bar
    return Y_bar


@inlined
def pull_seeded(table, params, lo, tape, base, i0, r, adj, counts):
    """Rows i0..i0+r of J[lo:K], tape slots placed as in ``record_range``; returns a view.

    The first step of a backward sweep from basis rows needs no product: its result is the
    rows of the last layer's Jacobian (for a dense layer, rows of W), written out directly.
    Pulling the identity through instead costs r·out·in multiply-adds, a whole extra
    matrix product when m = n."""
    k = table.shape[0] - 1
    w = table[k, W_IN]
    X_bar = adj[k % 2][: r * w].reshape((r, w))  # where pull_range's step k would write
    counts[MADDS_ACCUMULATE] += layer_explicit(table[k], params, tape[table[k, S_OFF] - base :],
                                               i0, 0, X_bar)
    return pull_range(table, params, lo, k, tape, base, X_bar, adj, counts)
