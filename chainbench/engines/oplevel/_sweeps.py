"""The sweeps both operation-level engines run: every layer's lowering over the chain,
on a recording or a dual state (``model.ops``), and the replay of a recorded tape."""

from __future__ import annotations

from ..._jit import inlined
from ...model.lowering import lower_layer
from ...model.ops import OUT, A, B

#: Fields of a layout array (``OpLayout.array``).
REGION, TEMPS, SINK, SLOTS, ENTRIES = range(5)


@inlined
def run_lowerings(table, params, lay, st):
    """Every layer's operations in order, on state ``st``: layer k reads value region
    k mod 2 and writes the other one; returns the first slot of the chain's output."""
    region = lay[REGION]
    for k in range(table.shape[0]):
        lower_layer(table[k], params, st, (k % 2) * region, ((k + 1) % 2) * region, lay[TEMPS])
    return (table.shape[0] % 2) * region


@inlined
def replay(index, partial, adj, r):
    """One backward pass over the tape for r adjoint rows (adj: slots × chunk)."""
    for e in range(index.shape[0] - 1, -1, -1):
        pull(index, partial, adj, e, r)


@inlined
def pull(index, partial, adj, e, r):
    """Entry e hands its output's adjoint to its operands, ā += ∂y/∂a · ȳ,
    b̄ += ∂y/∂b · ȳ, and zeroes it first, since the slot held an earlier value before the
    entry overwrote it. Indexed entry by entry, not through row views: a view per entry
    costs its reference count, several times the entry's work."""
    o, a, b = index[e, OUT], index[e, A], index[e, B]
    pa, pb = partial[e, 0], partial[e, 1]
    for l in range(r):
        g = adj[o, l]
        adj[o, l] = 0.0
        adj[a, l] += pa * g
        adj[b, l] += pb * g
