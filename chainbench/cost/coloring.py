"""Coloring a Jacobian's columns (for compressed forward mode) or rows (for reverse mode).

Columns j and j' are structurally orthogonal when no row holds a nonzero in both; columns of
one color share a forward seed (the sum of their basis vectors), so a Jacobian takes as many
JVPs as there are colors, and each entry is read back from the compressed product (Curtis,
Powell, Reid 1974; Coleman & Moré 1983). Rows likewise, for VJPs.

Greedy coloring in a given vertex order, here as a Numba kernel over the CSR pattern and its
transpose: each column takes the smallest color none of its distance-2 neighbours (columns
sharing a row) holds. Two orders are tried and the one with fewer colors kept: the natural
order (optimal on banded patterns, where it cycles through the bandwidth) and largest-first
(by distance-2 degree; Coleman & Moré's default). A graph library would need the column
intersection graph built as Python objects first — on a band of 17 at n = 65536 that is a
million edges — while the kernel walks the pattern itself in milliseconds. Every row's
nonzeros need distinct colors, so the densest row is a lower bound (columns; the densest
column for rows), reported beside the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .._jit import kernel
from ..model.chain import Chain, shape_of
from ..model.shape import ChainShape
from ..model.sparsity import is_full, structured_pattern
from ..provenance import require_memory


@kernel
def _greedy(indptr, indices, t_indptr, t_indices, order):
    """Colors of the columns of a CSR pattern (indptr, indices: rows; t_*: its transpose,
    the columns), greedily in ``order``: the smallest color no column sharing a row holds."""
    n = t_indptr.shape[0] - 1
    colors = np.full(n, -1, dtype=np.int64)
    forbidden = np.full(n + 1, -1, dtype=np.int64)  # forbidden[c] == j: c taken near j
    for j in order:
        for a in range(t_indptr[j], t_indptr[j + 1]):
            i = t_indices[a]
            for b in range(indptr[i], indptr[i + 1]):
                c = colors[indices[b]]
                if c >= 0:
                    forbidden[c] = j
        c = 0
        while forbidden[c] == j:
            c += 1
        colors[j] = c
    return colors


@kernel
def _distance2_degrees(indptr, indices, t_indptr, t_indices):
    """How many other columns share a row with each column."""
    n = t_indptr.shape[0] - 1
    degree = np.zeros(n, dtype=np.int64)
    seen = np.full(n, -1, dtype=np.int64)
    for j in range(n):
        seen[j] = j
        for a in range(t_indptr[j], t_indptr[j + 1]):
            i = t_indices[a]
            for b in range(indptr[i], indptr[i + 1]):
                k = indices[b]
                if seen[k] != j:
                    seen[k] = j
                    degree[j] += 1
    return degree


@dataclass(frozen=True)
class Coloring:
    """A coloring of a pattern's columns (``side='columns'``) or rows ('rows').

    colors       int64, one color in 0..count-1 per column (row)
    count        the number of colors: JVPs (VJPs) per Jacobian
    lower_bound  the densest row (column): no coloring has fewer colors
    order        the vertex order that gave it: 'natural' or 'largest-first'
    """

    colors: np.ndarray
    count: int
    lower_bound: int
    side: str
    order: str

    def groups(self) -> list[np.ndarray]:
        """The columns (rows) of each color, color by color."""
        by_color = np.argsort(self.colors, kind="stable")
        return np.split(by_color, np.cumsum(np.bincount(self.colors, minlength=self.count))[:-1])


def color(pattern, side: str = "columns") -> Coloring:
    """Greedy coloring of ``pattern``'s columns or rows (a scipy.sparse matrix or array, or
    a dense boolean array), the better of natural and largest-first order."""
    if side not in ("columns", "rows"):
        raise ValueError(f"side must be 'columns' or 'rows', got {side!r}")
    P = sp.csr_array(pattern, dtype=bool)
    # the pattern and its transpose with int64 indices, and ~6 arrays of a vertex each
    require_memory(2 * 17 * P.nnz + 56 * sum(P.shape), f"coloring the {side} of a "
                   f"{P.shape[0]} × {P.shape[1]} pattern", "choose smaller widths")
    if side == "rows":
        P = sp.csr_array(P.T)
    P.sort_indices()
    T = sp.csr_array(P.T)  # the columns, as rows
    T.sort_indices()
    args = (P.indptr.astype(np.int64), P.indices.astype(np.int64),
            T.indptr.astype(np.int64), T.indices.astype(np.int64))
    n = P.shape[1]
    degree = _distance2_degrees(*args)
    best = None
    for name, order in (("natural", np.arange(n)),
                        ("largest-first", np.argsort(-degree, kind="stable"))):
        colors = _greedy(*args, order.astype(np.int64))
        count = int(colors.max()) + 1 if n else 0
        if best is None or count < best.count:
            bound = int(np.diff(P.indptr).max(initial=0))
            best = Coloring(colors, count, bound, side, name)
    return best


@lru_cache(maxsize=128)
def chain_coloring(shape: ChainShape, side: str) -> Coloring:
    """The coloring the sparse modes use on a chain of ``shape``: of its Jacobian's pattern
    (``model.sparsity``), or, where that pattern is full, one color per column (row)."""
    if is_full(shape):
        lanes = shape.n if side == "columns" else shape.m
        return Coloring(np.arange(lanes), lanes, lanes, side, "natural")
    return color(structured_pattern(shape), side)


def coloring(chain: Chain | ChainShape, side: str = "columns") -> Coloring:
    """The coloring of the chain's Jacobian the sparse modes use.

    Parameters
    ----------
    chain : Chain or ChainShape
        The chain (only its layers and widths are read).
    side : {"columns", "rows"}, default "columns"
        Color J's columns (what sparse-forward pushes together) or its rows
        (sparse-reverse).

    Returns
    -------
    Coloring
    """
    if side not in ("columns", "rows"):
        raise ValueError(f"side must be 'columns' or 'rows', got {side!r}")
    return chain_coloring(shape_of(chain), side)
