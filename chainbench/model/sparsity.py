"""Sparsity detection: the structural pattern of a chain's Jacobian, from its shape alone.

Each layer states the pattern of its own Jacobian (``Layer.pattern``: full, diagonal,
banded, block-diagonal); the chain's is their boolean product P_K ⋯ P_1, entry (i, j) set
when some path of structural nonzeros leads from input j to output i. That is exact for the
registered layers with random parameters (a product entry vanishes only where values
cancel, which the pattern cannot see), and a superset of J's nonzeros always.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from ..errors import TooLarge
from ..provenance import available_memory, require_memory
from .chain import Chain, shape_of
from .shape import ChainShape

#: Bytes a CSR pattern holds per stored entry: an int32 column index and a bool.
PATTERN_BYTES = 5


def is_full(shape: ChainShape) -> bool:
    """Whether J's pattern is full: some layer may mix every input into every output (and
    every structured layer reaches all of its inputs and outputs, so nothing stays zero)."""
    return not all(kind.structured for kind in shape.layers)


def layer_patterns(shape: ChainShape) -> list[sp.csr_array]:
    """Each layer's structural pattern, first to last, boolean (out, in) CSR."""
    return [kind.pattern(shape.widths[k], shape.widths[k + 1])
            for k, kind in enumerate(shape.layers)]


#: Bytes per stored entry while patterns are built and multiplied: the diagonals or blocks a
#: layer builds its pattern from, the CSR's int64 indices, the int32 copy a product takes.
WORK_BYTES = 24


def _fits(entries: int, shape: ChainShape, what: str) -> None:
    """TooLarge unless ``entries`` pattern entries (``WORK_BYTES`` each) fit in half the
    memory this process may still use (the other half is the coloring's), so that nothing
    is allocated before the refusal."""
    require_memory(WORK_BYTES * entries, f"the Jacobian's sparsity pattern at widths "
                   f"{'→'.join(map(str, shape.widths))} ({what})", "choose smaller widths",
                   share=0.5)


@lru_cache(maxsize=64)
def structured_pattern(shape: ChainShape) -> sp.csr_array:
    """The pattern of a chain of structured layers, refused (``TooLarge``) before anything
    is allocated when its layers' patterns or a product of them would not fit in memory."""
    # one tangent lane visits each structural nonzero of a structured layer once
    _fits(sum(kind.cost(shape.widths[k], shape.widths[k + 1]).tangent
              for k, kind in enumerate(shape.layers)), shape, "its layers' patterns")
    product = None
    for P in layer_patterns(shape):
        step = sp.csr_array(P, dtype=np.int32)
        if product is not None:  # the product's entries are at most Σ_j col_j(step)·row_j
            reach = np.bincount(step.indices, minlength=step.shape[1]).astype(float)
            _fits(int(reach @ np.diff(product.indptr)), shape, "their product")
        product = step if product is None else step @ product
        product.data[:] = 1  # count paths no further: only whether one exists (no overflow)
        product.eliminate_zeros()
    product = sp.csr_array(product, dtype=bool)
    product.sort_indices()
    return product


def sparsity(chain: Chain | ChainShape) -> sp.csr_array:
    """The structural pattern of the chain's Jacobian, a boolean (m, n) scipy.sparse CSR
    array (sorted indices).

    Parameters
    ----------
    chain : Chain or ChainShape
        The chain (only its layers and widths are read).

    Raises
    ------
    TooLarge
        A full pattern that would not fit in memory (it needs m·n·5 bytes).
    """
    shape = shape_of(chain)
    if not is_full(shape):
        return structured_pattern(shape).copy()
    need, room = PATTERN_BYTES * shape.m * shape.n, available_memory()
    if room is not None and need > room // 2:
        raise TooLarge(f"the Jacobian's pattern is full ({shape.m} × {shape.n}: a layer mixes "
                       f"every input into every output) and would need {need / 2**30:.3g} GiB "
                       f"of the {room / 2**30:.3g} GiB available")
    return sp.csr_array(np.ones((shape.m, shape.n), dtype=bool))


def nonzeros(shape: ChainShape) -> int:
    """Structural nonzeros of J, without forming a full pattern."""
    return shape.m * shape.n if is_full(shape) else structured_pattern(shape).nnz
