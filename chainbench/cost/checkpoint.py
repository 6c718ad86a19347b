"""Checkpointing schedules for reverse mode under a memory budget: which layer values to
keep (snapshots) and which stretches to recompute during the backward sweep.

A schedule is a list of actions over layers (0-based, half-open ranges):
  ADVANCE(a, b, src, dst)  evaluate layers a..b-1 from the value in slot src, keep the
                           result in slot dst (no tape)
  REVERSE(a, b, src)       evaluate layers a..b-1 from slot src recording their tape, then
                           pull the cotangent rows back through b-1..a
Slot 0 holds the input x; slot WORK is scratch that is never kept across actions.

``every(K, k)`` keeps a snapshot every k layers (k = ⌈√K⌉: memory O(√K) for about one
extra forward sweep, Chen et al. 2016); ``revolve(K, s)`` is binomial checkpointing with s
snapshots (x included): the fewest recomputed layers, t·K − C(s+t, s+1) for the smallest
t with C(s+t, s) ≥ K (Griewank & Walther 2000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

ADVANCE, REVERSE = 0, 1


@dataclass(frozen=True)
class Schedule:
    """Actions as an int64 table (op, a, b, src, dst) and the slots they need."""

    actions: np.ndarray
    slots: int  # snapshot slots, x's included; the scratch slot is index ``slots``
    kind: str
    snapshots: int

    @property
    def advanced_layers(self) -> int:
        """Layers evaluated by ADVANCE actions: the recomputation on top of recording."""
        a = self.actions
        return int((a[a[:, 0] == ADVANCE, 2] - a[a[:, 0] == ADVANCE, 1]).sum())

    @property
    def longest_segment(self) -> int:
        a = self.actions
        return int((a[a[:, 0] == REVERSE, 2] - a[a[:, 0] == REVERSE, 1]).max())


def every(depth: int, k: int | None = None) -> Schedule:
    """Snapshot at the start of every segment of k layers; each segment is recomputed once
    with its tape, last segment first."""
    if k is None:
        k = max(1, math.isqrt(depth - 1) + 1)  # ⌈√K⌉
    starts = list(range(0, depth, k))
    actions = []
    for slot, a in enumerate(starts[:-1]):
        actions.append((ADVANCE, a, a + k, slot, slot + 1))
    for slot in range(len(starts) - 1, -1, -1):
        a = starts[slot]
        actions.append((REVERSE, a, min(a + k, depth), slot, 0))
    return Schedule(np.array(actions, dtype=np.int64), len(starts), "sqrt", len(starts))


@lru_cache(maxsize=None)
def _evaluations(steps: int, free: int) -> tuple[int, int]:
    """(fewest layer evaluations to reverse ``steps`` layers whose input is kept, with
    ``free`` more snapshot slots; the best first split)."""
    if steps == 1:
        return 1, 0
    if free == 0:  # advance from the kept input before each step: 0 + 1 + … + (steps-1)
        return steps * (steps - 1) // 2 + steps, 0
    best = None
    for m in range(1, steps):
        total = m + _evaluations(steps - m, free - 1)[0] + _evaluations(m, free)[0]
        if best is None or total < best[0]:
            best = (total, m)
    return best


def revolve(depth: int, snapshots: int) -> Schedule:
    """Binomial checkpointing with ``snapshots`` slots (the input's included)."""
    if snapshots < 1:
        raise ValueError(f"snapshots must be ≥ 1 (the input is one), got {snapshots}")
    free = min(snapshots, depth) - 1
    actions: list[tuple] = []
    work = free + 1

    def reverse(a: int, b: int, src: int, free: int) -> None:
        if b - a == 1:
            actions.append((REVERSE, a, b, src, 0))
        elif free == 0:
            for i in range(b - 1, a - 1, -1):
                if i > a:
                    actions.append((ADVANCE, a, i, src, work))
                actions.append((REVERSE, i, i + 1, work if i > a else src, 0))
        else:
            m = _evaluations(b - a, free)[1]
            actions.append((ADVANCE, a, a + m, src, src + 1))
            reverse(a + m, b, src + 1, free - 1)
            reverse(a, a + m, src, free)

    reverse(0, depth, 0, free)
    return Schedule(np.array(actions, dtype=np.int64), free + 1, "revolve", snapshots)


def revolve_extra(depth: int, snapshots: int) -> int:
    """The published optimum of recomputed layers: t·l − C(s+t, s+1), smallest t with
    β(s, t) = C(s+t, s) ≥ l."""
    s, t = snapshots, 0
    while math.comb(s + t, s) < depth:
        t += 1
    return t * depth - math.comb(s + t, s + 1)


def schedule(kind: str, depth: int, snapshots: int | None) -> Schedule:
    """The schedule of a checkpointed mode: 'sqrt' (snapshots = segments, default ⌈√K⌉)
    or 'revolve' (snapshots slots, default ⌈√K⌉)."""
    if snapshots is not None and (isinstance(snapshots, bool) or not isinstance(snapshots, int)
                                  or snapshots < 1):
        raise ValueError(f"snapshots must be an integer ≥ 1, got {snapshots!r}")
    if kind == "sqrt":
        return every(depth, None if snapshots is None else math.ceil(depth / snapshots))
    s = snapshots if snapshots is not None else max(1, math.isqrt(depth - 1) + 1)
    return revolve(depth, s)
