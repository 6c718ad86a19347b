"""A plan's lane blocks lowered to the small int64 schedule a sweeping kernel loops over:
one row (first lane, lanes) per sweep, in order. The sparse and operation-level engines
compile their plan into it when they are bound, so their kernels run the plan's blocks
rather than deriving blocks of their own from a chunk."""

from __future__ import annotations

import numpy as np

from .work import Plan


def lane_schedule(plan: Plan, rule: str) -> np.ndarray:
    """(first lane, lanes) per sweep: the plan's passes up to each 'copy' are one block of
    sweeps, run as many times as its ``rule`` passes ('tangent' or 'adjoint') count, on
    as many lanes as they move; a block without such passes (a final decompression)
    moves no lanes."""
    rows, first, block = [], 0, None
    for p in plan.passes:
        if p.rule == rule:
            block = (p.lanes, p.count)
        elif p.rule == "copy" and block is not None:
            lanes, sweeps = block
            for _ in range(sweeps):
                rows.append((first, lanes))
                first += lanes
            block = None
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def widest(schedule: np.ndarray) -> int:
    """The most lanes one sweep moves: the lane buffers' width."""
    return int(schedule[:, 1].max()) if schedule.shape[0] else 1
