"""A mode's work as one description: a ``Plan``, the ordered passes an engine runs on a chain
of a given shape, chunk and options, and the buffers it allocates.

A pass is one step of a kernel, run ``count`` times: a layer's value, record, tangent or
adjoint rule on a block of lanes, an explicit Jacobian block written (a sweep's seed), a
block product, a block copied (into J, or out of a kernel's buffer), a block filled with a
constant, or a buffer allocated. Everything else is read from the plan: the counters an
engine fills (``Plan.prediction``: multiply-adds by kind, sweeps, bytes held), the memory
guard's estimate (``Plan.bytes_held``) and the time model's price (``time_model``, pass by
pass). The plan builders live one module per engine family (``sweeps``, ``sparse``,
``operations``); the property tests prove the derived counters equal the kernels'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..model.shape import ChainShape
from .predictions import F64, Prediction

#: The counter each rule's multiply-adds go to (rules absent here count none).
MADDS_OF = {"value": "madds_value", "record": "madds_value", "tangent": "madds_tangent",
            "adjoint": "madds_adjoint", "explicit": "madds_accumulate",
            "product": "madds_accumulate"}

#: Rules that evaluate a layer: each run is one layer step (``Counts.layer_steps``).
LAYER_STEPS = ("value", "record")


@dataclass(frozen=True)
class Pass:
    """One step of a kernel, ``count`` times: ``madds`` multiply-adds and ``bytes`` moved per
    run, on ``lanes`` vectors at once.

    product   whether it is a matrix product (a dense layer's rule, a block product):
              priced at the GEMM rate for its ``dims`` (M, K, N) = (M×K) @ (K×N)
    layer     the layer's name, for a layer's rule ('' for the other passes)
    rule      'value', 'record', 'tangent', 'adjoint' (a layer's rules), 'explicit' (a
              Jacobian block written), 'product', 'copy', 'fill' or 'alloc'
    per_madd  whether the time model may price its rule per multiply-add (layer-level
              rules of layers without a parameter matrix, ``Overheads.madd_s``)
    holds     for 'alloc': which counter its bytes are held in ('tape', 'work', 'snapshots')
    level     'operation' for an operation-level engine's pass (one multiply-add per tape
              entry or partial), priced per multiply-add by the measured cost of operations
              (``Overheads.per_madd(OPERATIONS, rule)``); 'layer' otherwise
    allocator for 'alloc': 'numpy' for a buffer numpy allocates from Python (priced by the
              'alloc-numpy' curve), '' for one a kernel allocates
    touched   bytes the pass reads and writes one at a time inside a block of ``block``
              bytes that stays put while it runs (an operation's value slots and lane
              rows): priced at the rate of that block's level, apart from ``bytes``, which
              stream at the rate of the call's working set
    """

    madds: int
    bytes: int
    lanes: int
    product: bool
    count: int = 1
    dims: tuple[int, int, int] = (1, 1, 1)
    layer: str = ""
    rule: str = ""
    per_madd: bool = False
    holds: str = ""
    level: str = "layer"
    touched: int = 0
    block: int = 0
    allocator: str = ""


@dataclass(frozen=True)
class Plan:
    """The passes one engine runs for one Jacobian, in order, and its sweeps (a forward
    sweep: through the chain from input to output; a backward one: from output to input)
    and evaluations of f alone."""

    mode: str
    chunk: int
    passes: tuple[Pass, ...]
    sweeps_forward: int
    sweeps_backward: int = 0
    evaluations: int = 0
    shape: ChainShape | None = field(default=None, compare=False, repr=False)
    #: (first lane, lanes) of each sweep that moves a block of lanes, in the order the
    #: kernel runs them: the schedule a sweep engine's kernel loops over (``schedule``)
    lane_blocks: EvenBlocks | tuple[tuple[int, int], ...] = ()

    def renamed(self, mode: str, chunk: int | None = None) -> Plan:
        """The same work under another mode's name (a peer, a strategy's pure choice)."""
        return replace(self, mode=mode, chunk=self.chunk if chunk is None else chunk)

    def schedule(self) -> np.ndarray:
        """``lane_blocks`` as the int64 (sweeps, 2) array a kernel loops over: the plan, as
        the kernel runs it (``engines.forward``, ``engines.reverse``)."""
        if isinstance(self.lane_blocks, EvenBlocks):
            return self.lane_blocks.array()
        return np.array(self.lane_blocks, dtype=np.int64).reshape((-1, 2))

    def held(self, what: str) -> int:
        """Bytes of the buffers allocated into ``what`` ('tape', 'work', 'snapshots')."""
        return sum(p.bytes * p.count for p in self.passes if p.rule == "alloc" and p.holds == what)

    @property
    def bytes_held(self) -> int:
        """Bytes of every buffer the engine allocates besides J: the memory guard's need."""
        return sum(p.bytes * p.count for p in self.passes if p.rule == "alloc")

    @property
    def runs(self) -> int:
        """How many passes run in all (each pass times its count), allocations aside: the
        time model's per-pass overhead multiplies this."""
        return sum(p.count for p in self.passes if p.rule != "alloc")

    def prediction(self) -> Prediction:
        """The counters the engine's kernels fill, summed over the passes."""
        madds = dict.fromkeys(set(MADDS_OF.values()), 0)
        steps = 0
        for p in self.passes:
            if p.rule in MADDS_OF:
                madds[MADDS_OF[p.rule]] += p.madds * p.count
            if p.rule in LAYER_STEPS:
                steps += p.count
        return Prediction(
            self.mode, self.chunk, self.sweeps_forward, self.sweeps_backward,
            bytes_tape=self.held("tape"), bytes_work=self.held("work"),
            bytes_snapshots=self.held("snapshots"), layer_steps=steps,
            evaluations=self.evaluations, **madds,
        )

    def __str__(self) -> str:
        p = self.prediction()
        head = (f"plan of {self.mode!r}, chunk {self.chunk}: {p.sweeps_forward} forward and "
                f"{p.sweeps_backward} backward sweeps, {p.madds} multiply-adds, "
                f"{p.bytes_held} bytes held besides J")
        rows = [("pass", "layer", "lanes", "madds", "bytes", "count")]
        rows += [(p.rule + (f" ({p.holds})" if p.holds else ""), p.layer or "-", str(p.lanes),
                  str(p.madds), str(p.bytes), str(p.count)) for p in self.passes]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        return "\n".join([head, *lines])


# --- the passes every family builds from ------------------------------------------------------


def _layer(shape: ChainShape, k: int):
    w_in, w_out = shape.widths[k], shape.widths[k + 1]
    cls = shape.layers[k]
    return cls, cls.cost(w_in, w_out), w_in, w_out, cls.parameters(w_in, w_out)


def value_pass(shape: ChainShape, k: int, count: int = 1, record: bool = False) -> Pass:
    """Layer k evaluated once (and, ``record``, its tape slot written)."""
    cls, c, w_in, w_out, params = _layer(shape, k)
    moved = params + w_in + w_out + (c.saved if record else 0)
    return Pass(c.value, F64 * moved, 1, cls.matrix_product, count, layer=cls.name,
                rule="record" if record else "value", per_madd=True)


def lane_pass(shape: ChainShape, k: int, lanes: int, kind: str, count: int = 1) -> Pass:
    """Layer k's JVP ('tangent') or VJP ('adjoint') on ``lanes`` lanes (or rows): the lane
    blocks are read and written again at every layer."""
    cls, c, w_in, w_out, params = _layer(shape, k)
    per_lane = c.tangent if kind == "tangent" else c.adjoint
    moved = params + (w_in + w_out) * lanes + c.saved
    if not cls.matrix_product:
        return Pass(per_lane * lanes, F64 * moved, lanes, False, count, layer=cls.name,
                    rule=kind, per_madd=True)
    # tangents: W (w_out × w_in) @ X (w_in × lanes); adjoints: Y (lanes × w_out) @ W
    dims = (w_out, w_in, lanes) if kind == "tangent" else (lanes, w_out, w_in)
    return Pass(per_lane * lanes, F64 * moved, lanes, True, count, dims, cls.name, kind)


def explicit_pass(entries: int, count: int = 1, layer: str = "") -> Pass:
    """Entries of an explicit Jacobian block written out (a sweep's seed columns or rows),
    one multiply-add counted each."""
    return Pass(entries, F64 * entries, 1, False, count, layer=layer, rule="explicit")


def copy_pass(entries: int, count: int = 1) -> Pass:
    """A block copied (into J, or out of a kernel's buffer): read and written, no arithmetic."""
    return Pass(0, 2 * F64 * entries, 1, False, count, rule="copy")


def fill_pass(entries: int, count: int = 1) -> Pass:
    """Entries set to a constant (a seed block's zeros and ones, a dense J's zeros)."""
    return Pass(0, F64 * entries, 1, False, count, rule="fill")


def product_pass(hi: int, mid: int, lo: int) -> Pass:
    """(hi × mid) @ (mid × lo), a block product (a GEMM)."""
    moved = hi * mid + mid * lo + hi * lo
    return Pass(hi * mid * lo, F64 * moved, min(hi, mid, lo), True, dims=(hi, mid, lo),
                rule="product")


def alloc_pass(nbytes: int, holds: str = "work", count: int = 1, allocator: str = "") -> Pass:
    """A fresh buffer of ``nbytes`` the engine holds (as ``holds``) while it runs: its pages
    are touched (faulted in) the first time it is written (``allocator``: see ``Pass``)."""
    return Pass(0, nbytes, 1, False, count, rule="alloc", holds=holds, allocator=allocator)


def blocks(total: int, chunk: int) -> list[tuple[int, int]]:
    """(lanes, how many sweeps) covering ``total`` lanes ``chunk`` at a time."""
    return grouped(lane_blocks(total, chunk))


@dataclass(frozen=True)
class EvenBlocks(Sequence):
    """(first lane, lanes) of each sweep covering ``total`` lanes ``chunk`` at a time, the
    last one shorter: held as two numbers, so a plan over a billion lanes is priced (and
    refused by the memory guard) without listing a block per sweep."""

    total: int
    chunk: int

    def __post_init__(self):
        if self.total < 0 or self.chunk < 1:
            raise ValueError(f"lane blocks need total ≥ 0 and chunk ≥ 1, got total "
                             f"{self.total} and chunk {self.chunk}")
        # one description per split: a chunk beyond the lanes moves them all at once
        object.__setattr__(self, "chunk", max(1, min(self.chunk, self.total)))

    def __len__(self) -> int:
        return -(-self.total // self.chunk)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = i * self.chunk
        return start, min(self.chunk, self.total - start)

    def grouped(self) -> list[tuple[int, int]]:
        full, rest = divmod(self.total, self.chunk)
        return [(lanes, n) for lanes, n in ((self.chunk, full), (rest, 1)) if n and lanes]

    def array(self) -> np.ndarray:
        starts = np.arange(0, self.total, self.chunk, dtype=np.int64)
        return np.column_stack([starts, np.minimum(self.chunk, self.total - starts)])


def lane_blocks(total: int, chunk: int) -> EvenBlocks:
    """(first lane, lanes) of each sweep covering ``total`` lanes ``chunk`` at a time."""
    return EvenBlocks(int(total), int(chunk))


def grouped(starts) -> list[tuple[int, int]]:
    """(lanes, how many sweeps) of the blocks ``starts``, in the order sizes first appear."""
    if isinstance(starts, EvenBlocks):
        return starts.grouped()
    counts: dict[int, int] = {}
    for _, lanes in starts:
        counts[lanes] = counts.get(lanes, 0) + 1
    return list(counts.items())


def widest_block(starts) -> int:
    """The most lanes one block of ``starts`` moves."""
    return max(lanes for lanes, _ in grouped(starts))


def widest(schedule: np.ndarray) -> int:
    """The most lanes one sweep of ``schedule`` moves: the lane buffers' width."""
    return int(schedule[:, 1].max()) if schedule.shape[0] else 1


def check_lane_blocks(starts, total: int) -> tuple[tuple[int, int], ...]:
    """``starts`` if its blocks cover lanes 0..total-1 once each, in order, else a
    ValueError: a kernel runs exactly these sweeps."""
    starts = tuple((int(a), int(b)) for a, b in starts)
    at = 0
    for start, lanes in starts:
        if start != at or lanes < 1:
            raise ValueError(f"lane blocks {starts} do not cover lanes 0..{total - 1} in order")
        at += lanes
    if at != total:
        raise ValueError(f"lane blocks {starts} cover {at} lanes, not {total}")
    return starts
