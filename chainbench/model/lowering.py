"""A chain at the operation level: each layer's lowering (its value in primitives, written
in its class: ``Layer.lowering``, or ``Elementwise.scalar_lowering`` per entry) run on one
shared set of value slots, and what it takes: operations per layer and per primitive,
partials, slots.

The slots: two regions of the widest layer's width that layers read and write in turn
(layer k reads region k mod 2, the chain's input x sits at slots 0…n−1), then the widest
lowering's temporaries, then the sink (``model.ops``). So the slots a chain needs grow with
its width, not with its operations: forward mode's tangent lanes stay O(width · c), as at
the layer level, and only the tape grows with the operations.

``lower_layer`` is generated from the layer registry (one branch per lowered layer; an
activation's branch loops its scalar lowering over the entries), as ``layers.dispatch`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._jit import generate
from ..errors import Unsupported
from .layers import LAYERS
from .layers.base import OP, W_OUT
from .primitives import CODES, curvature_terms, curved_entries, partials
from .shape import ChainShape


class NotLowered(Unsupported, TypeError):
    """A layer of the chain has no operation-level lowering."""


def lowered(cls) -> bool:
    """Whether layer class ``cls`` (or a ``Kind`` of one) has a lowering the
    operation-level engines can run."""
    return cls.lowered()


def check_lowered(shape: ChainShape, mode: str) -> None:
    """Raise ``NotLowered`` naming every layer of ``shape`` without a lowering."""
    missing = sorted({kind.layer_class().__name__ for kind in shape.layers if not lowered(kind)})
    if missing:
        raise NotLowered(
            f"mode {mode!r} needs every layer in primitive operations; {', '.join(missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no lowering: give the class a "
            "`lowering` kernel (activations: `scalar_lowering`) and `op_counts` "
            "(see docs/operation-level.md)")


@dataclass(frozen=True)
class OpLayout:
    """What a chain's lowering takes, from its shape alone.

    entries     operations per layer (a recorded tape holds their sum)
    partials    partial derivatives per layer (Σ arity: multiply-adds of one lane or row)
    primitives  operations per primitive name, whole chain
    curved      curved operations per layer (``Primitive.curved``: second partials kept)
    curvature   second partials per layer one lane applies (Σ arity² of its curved ones)
    region      width of each of the two value regions (the widest layer, input included)
    temps       temporary slots (the widest need of any layer's lowering)
    """

    entries: tuple[int, ...]
    partials: tuple[int, ...]
    primitives: dict
    region: int
    temps: int
    curved: tuple[int, ...] = ()
    curvature: tuple[int, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.entries)

    @property
    def total_partials(self) -> int:
        return sum(self.partials)

    @property
    def sink(self) -> int:
        return 2 * self.region + self.temps

    @property
    def slots(self) -> int:
        """Value slots: both regions, the temporaries and the sink."""
        return self.sink + 1

    @property
    def offsets(self) -> np.ndarray:
        """Where each layer's entries start on a tape, and the end."""
        return np.concatenate([[0], np.cumsum(self.entries)]).astype(np.int64)

    def array(self) -> np.ndarray:
        """(region, temps base, sink, slots, entries) as int64, for the kernels."""
        return np.array([self.region, 2 * self.region, self.sink, self.slots, self.total],
                        dtype=np.int64)


@lru_cache(maxsize=256)
def layout(shape: ChainShape) -> OpLayout:
    """The operation-level layout of a chain of ``shape`` (layers without a lowering count
    nothing; engines refuse them first)."""
    entries, parts, curved, curvature, total = [], [], [], [], dict.fromkeys(CODES, 0)
    temps = 0
    for k, cls in enumerate(shape.layers):
        w_in, w_out = shape.widths[k], shape.widths[k + 1]
        counts = cls.op_counts(w_in, w_out) if lowered(cls) else {}
        for name, count in counts.items():
            total[name] += count  # a name outside the table fails here, with the key
        entries.append(sum(counts.values()))
        parts.append(partials(counts))
        curved.append(curved_entries(counts))
        curvature.append(curvature_terms(counts))
        temps = max(temps, cls.op_temps(w_in, w_out) if lowered(cls) else 0)
    return OpLayout(tuple(entries), tuple(parts), {k: v for k, v in total.items() if v},
                    max(shape.widths), temps, tuple(curved), tuple(curvature))


def _source() -> tuple[str, dict]:
    """Source of ``lower_layer(row, params, st, x0, y0, t0)``: a branch per lowered layer."""
    namespace, lines = {"OP": OP, "W_OUT": W_OUT}, ["def lower_layer(row, params, st, x0, y0, t0):",
                                                    "    op = row[OP]"]
    for cls in LAYERS.values():
        if not lowered(cls):
            continue
        lines.append(f"    if op == {cls.op}:")
        call, names = cls.lowering_call()
        lines += call
        namespace.update(names)
        lines.append("        return")
    return "\n".join(lines) + "\n", namespace


def _generate():
    text, namespace = _source()
    return generate(text, "chainbench.model.lowering", namespace, ["lower_layer"])["lower_layer"]


#: lower_layer(row, params, st, x0, y0, t0): run layer ``row``'s lowering on state ``st``
lower_layer = _generate()
