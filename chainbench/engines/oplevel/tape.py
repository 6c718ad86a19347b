"""The Wengert list ``op-reverse`` records, as an inspectable structure: its entries (op
code, output slot, operand slots, local partials) in flat arrays, which layer each came
from, its bytes, and a readable dump of its first entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...model.lowering import check_lowered, layout
from ...model.ops import CODE, OUT, A, B
from ...model.primitives import PRIMITIVES
from .reverse import new_tape, record


@dataclass(frozen=True)
class OpTape:
    """One recording of a chain at x: entry e wrote slot ``out[e]`` by primitive
    ``code[e]`` from slots ``a[e]`` and ``b[e]`` (the sink, for a unary one), with local
    partials ``da[e]`` = ∂out/∂a and ``db[e]`` = ∂out/∂b; ``index`` (entries, 4: code,
    out, a, b) and ``partial`` (entries, 2) are the arrays the replays read. Layer k's
    entries are ``offsets[k]:offsets[k + 1]``; x sat in slots 0…n−1, f(x) in slots
    ``first``… (it is ``output``); ``slots``: how many value slots the sweep used."""

    layers: tuple[str, ...]
    offsets: np.ndarray
    index: np.ndarray
    partial: np.ndarray
    first: int
    sink: int
    slots: int
    output: np.ndarray

    code = property(lambda self: self.index[:, CODE])
    out = property(lambda self: self.index[:, OUT])
    a = property(lambda self: self.index[:, A])
    b = property(lambda self: self.index[:, B])
    da = property(lambda self: self.partial[:, 0])
    db = property(lambda self: self.partial[:, 1])

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the entries: what the replays read (and ``bytes_tape`` counts)."""
        return self.index.nbytes + self.partial.nbytes

    def entries_per_layer(self) -> np.ndarray:
        return np.diff(self.offsets)

    def primitive(self, e: int) -> str:
        return PRIMITIVES[int(self.code[e])].name

    def describe(self, e: int) -> str:
        """Entry e in words: ``e  v[out] = name(v[a], v[b])  ∂ = (da, db)``."""
        p = PRIMITIVES[int(self.code[e])]
        args = f"v{self.a[e]}" + (f", v{self.b[e]}" if p.arity == 2 else "")
        if p.takes_constant:
            args += ", c"
        partials = f"{self.da[e]:.6g}" + (f", {self.db[e]:.6g}" if p.arity == 2 else "")
        layer = self.layers[int(np.searchsorted(self.offsets, e, side="right")) - 1]
        return f"{e:>6d}  {layer:<8s} v{self.out[e]} = {p.name}({args})  ∂ = ({partials})"

    def dump(self, count: int = 10) -> str:
        """The first ``count`` entries, one line each, after a line of totals."""
        head = (f"{len(self)} entries, {self.nbytes} bytes "
                f"({self.nbytes / max(len(self), 1):.0f} per entry), layers: "
                + ", ".join(f"{name} {k}" for name, k in zip(self.layers, self.entries_per_layer())))
        return "\n".join([head, *(self.describe(e) for e in range(min(count, len(self))))])

    def __repr__(self) -> str:
        return f"OpTape({len(self)} entries, {self.nbytes} bytes)"


def record_tape(chain, x: np.ndarray, counts: np.ndarray) -> OpTape:
    """Record the Wengert list of ``chain`` at x (float64, length n)."""
    program = chain.program
    check_lowered(program.shape, "op-reverse")
    lay = layout(program.shape)
    index, partial = new_tape(lay.total)
    vals = np.empty(lay.slots)
    first, _ = record(program.table, program.params, lay.array(), x, vals, index, partial,
                      counts)
    return OpTape(tuple(layer.name for layer in chain.layers), lay.offsets, index, partial,
                  int(first), lay.sink, lay.slots, vals[first : first + chain.m].copy())
