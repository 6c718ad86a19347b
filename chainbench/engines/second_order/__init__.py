"""Second-order engines: Hessians and Hessian-vector products of u·f by forward-over-reverse,
reverse-over-forward, reverse-over-reverse (on the operation-level tape) and
forward-over-forward (hyper-dual numbers), each a jitted kernel over the compiled program;
``compute`` runs one and returns its rows and counters."""

from __future__ import annotations

import numpy as np

from ...cost.second_order import HESSIAN_MODES, OPERATION_LEVEL, curved, default_chunk
from ...model.lowering import check_lowered, layout
from . import (
    forward_over_forward,
    forward_over_reverse,
    optimal,
    reverse_over_forward,
    reverse_over_reverse,
)
from ._sweeps import N_SECOND_COUNTERS

_TAPED = {"forward-over-reverse": forward_over_reverse.run,
          "reverse-over-forward": reverse_over_forward.run}
assert set(HESSIAN_MODES) == {*_TAPED, "forward-over-forward", "reverse-over-reverse"}


def new_counters() -> np.ndarray:
    return np.zeros(N_SECOND_COUNTERS, dtype=np.int64)


def compute(program, mode: str, chunk: int | None, x: np.ndarray, u: np.ndarray,
            V: np.ndarray | None, counts: np.ndarray) -> np.ndarray:
    """Rows (N, n) of the Hessian of u·f at x: H itself (V None: the n basis directions,
    ``chunk`` per sweep, default ``default_chunk``) or (H V)ᵀ for V (n, N). Affine chains
    (no curvature) give zeros without running anything."""
    shape = program.shape
    chunk = chunk or default_chunk(shape, mode)
    n = shape.n
    N = n if V is None else V.shape[1]
    if mode in OPERATION_LEVEL:  # refused as it would be on a curved chain
        check_lowered(shape, mode)
    first, top = curved(shape)
    out = np.zeros((N, n)) if top < 0 else np.empty((N, n))
    if top < 0:
        return out
    seeded = V is None
    lanes = np.empty((n, 0)) if V is None else V
    if mode == "reverse-over-reverse":
        lay = layout(shape)
        reverse_over_reverse.run(program.table, program.params, lay.array(), sum(lay.curved),
                                 sum(lay.curvature), chunk, seeded, lanes, u, x, out, counts)
    elif mode == "forward-over-forward":
        forward_over_forward.run(program.table, program.params, program.max_width, first, top,
                                 chunk, seeded, lanes, u, x, out, counts)
    else:
        points = np.concatenate([[0], np.cumsum(shape.widths)]).astype(np.int64)
        _TAPED[mode](program.table, program.params, program.tape_size, program.max_width,
                     points, top, chunk, seeded, lanes, u, x, out, counts)
    return out


def hessian_optimal(chain, x: np.ndarray, u: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The Hessian of u·f at x by the bracketing ``cost.hessian_plan`` chose."""
    if curved(chain.shape)[1] < 0:
        return np.zeros((chain.n, chain.n))
    return optimal.run(chain, x, u, counts, compute)
