"""What an engine is to the rest of chainbench: one ``Engine`` record per mode.

The API, the harness and the figures read these fields and never branch on a mode's name:
how to bind the engine to a compiled chain, what its chunk counts, which options it takes,
the plan it runs (what its counters, memory and time are read from), how closely to check it, and whether the memory
measurement can see its buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

#: run(x, J, counts): fill J (m, n) with the Jacobian at x, adding to the int64 counters.
Run = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


def all_lanes(max_width: int, limit: int) -> int:
    """The default chunk of an engine that moves every lane at once."""
    return limit


def one_lane(max_width: int, limit: int) -> int:
    """The default chunk of an engine that moves one lane at a time."""
    return 1


@dataclass(frozen=True, eq=False)
class Engine:
    """One differentiation mode.

    name           the mode, as ``jacobian(mode=...)`` and experiment files spell it
    summary        one line: what it does (``chainbench list modes``)
    bind           (program, chunk, **options) -> Run; raises ``Unsupported`` when it
                   cannot differentiate that chain here (a missing peer, a layer the
                   complex step cannot see through)
    plan           (shape, chunk=None, **options) -> ``cost.work.Plan``, the passes it runs
                   (for a peer: those of the algorithm it runs): its counters
                   (``Plan.prediction``), its memory and its predicted time are read from it
    lanes          what its chunk counts: 'n' input directions, 'm' output rows, or None
                   when it takes no chunk
    default_chunk  (widest layer, lanes there are) -> the chunk it takes by default
    options        the keyword options it takes beyond chunk: 'snapshots', 'step'
    algorithm      'forward' or 'reverse' when it runs that pure mode's sweeps (the slides'
                   formula for it, the J/F claims), None otherwise
    family         how figures and tables group it: 'ad', 'numerical' or 'peer'
    level          'layer' when it works on whole layers' rules, 'operation' when on every
                   layer lowered to primitive scalar operations (figures pair the two)
    counts         whether it fills the counters (peers do not)
    memory_visible whether tracemalloc sees its buffers (numpy's yes; XLA's, libtorch's no)
    check_tol      the relative error it is checked to (numerical methods are approximate)
    snapshots      (program, snapshots) -> the snapshots its schedule keeps, for engines
                   that take them; None otherwise
    prepare        called once before its first timed call (a peer's framework import), or
                   None
    lane_total     shape -> the lanes there are to move, where that is neither n nor m (the
                   sparse modes: the colors of J's columns or rows); None otherwise
    native         (program, x) -> (call, to_numpy) for a peer: ``call()`` is its Jacobian
                   at x as the peer's own users time it (x already in the peer's arrays,
                   the result awaited, returned as the peer's array), ``to_numpy`` turns
                   that result into J; the harness times ``call`` and, apart, the numpy-in,
                   numpy-out call of ``jacobian``. None for engines whose own call is that
    jvp, vjp       (program, x, block, counts) -> (f(x), J V) for tangent lanes V (n, k), or
                   (f(x), U J) for cotangent rows U (k, m), in one pass: the directional
                   products an engine offers (``Bound.jvp``, ``Bound.vjp``); None otherwise
    """

    name: str
    summary: str
    bind: Callable[..., Run]
    plan: Callable
    lanes: Literal["n", "m"] | None = None
    default_chunk: Callable[[int, int], int] = all_lanes
    options: tuple[str, ...] = ()
    algorithm: Literal["forward", "reverse"] | None = None
    family: Literal["ad", "numerical", "peer"] = "ad"
    level: Literal["layer", "operation"] = "layer"
    counts: bool = True
    memory_visible: bool = True
    check_tol: float = 0.0
    snapshots: Callable | None = None
    prepare: Callable[[], None] | None = None
    lane_total: Callable | None = None
    native: Callable | None = None
    jvp: Callable | None = None
    vjp: Callable | None = None

    def __repr__(self) -> str:
        return f"Engine({self.name!r})"

    def chunk_for(self, shape) -> int | None:
        """The default chunk on a chain of ``shape``; None for an engine without lanes."""
        if self.lanes is None:
            return None
        return self.default_chunk(max(shape.widths), self.lane_count(shape))

    def lane_count(self, shape) -> int:
        """How many lanes there are to move: n for an engine whose chunk counts input
        directions, else m (or its ``lane_total``)."""
        if self.lane_total is not None:
            return self.lane_total(shape)
        return shape.n if self.lanes == "n" else shape.m
