"""The cost model of the operation-level engines, from layer kinds and widths alone: the
counters ``op-reverse`` and ``op-forward`` fill, and their passes for the time model.

Their unit is the primitive operation (``model.lowering.layout``: each layer's ``op_counts``).
Evaluating one costs one (``madds_value`` counts operations); one tangent lane or adjoint
row through it costs its arity in multiply-adds, ∂y/∂a · ȧ + ∂y/∂b · ḃ: P = Σ arity per
chain. A dense layer of out × in takes 2·out·in operations (a mulc and an add per weight,
less one add per output, plus the bias's addc) and 3·out·in − out partials, where the
layer-level engines do out·in multiply-adds in one matrix product.

- op-reverse, chunk r: one recording sweep of E operations, a tape of E entries of
  ``ENTRY_BYTES``; ⌈m/r⌉ replays, m·P multiply-adds; values and r adjoint rows per slot.
- op-forward, chunk c: ⌈n/c⌉ sweeps, each E operations, n·P multiply-adds in all; values
  and c tangent lanes per slot; no tape.
"""

from __future__ import annotations

from math import ceil

from ..model.chain import Chain, ChainShape, shape_of
from ..model.lowering import layout
from ..model.ops import ENTRY_BYTES
from .passes import Pass, _blocks, copy_pass
from .predictions import F64, Prediction

#: The lanes of an operation-level sweep are capped so that the (widest layer × lanes)
#: block stays within this many bytes: every operation touches a lane row of its output and
#: of each operand, and the rows must stay in cache. Measured on op-forward, dense chains:
#: n = 1024 took 3.3 s at 64 lanes, 1.6 s at 256 (2 MiB), 2.7 s at 1024; n = 256 was
#: fastest with all 256.
OP_LANE_BYTES_CAP = 2 * 2**20


def op_default_lanes(max_width: int, limit: int) -> int:
    """All ``limit`` lanes in one sweep while the lane block fits in OP_LANE_BYTES_CAP,
    else the most that do."""
    return max(1, min(limit, OP_LANE_BYTES_CAP // (F64 * max_width)))


def _shape(chain) -> ChainShape:
    return shape_of(chain)


def predict_op_reverse(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """One recording sweep (E operations, E tape entries), ⌈m/r⌉ replays (m·P)."""
    shape = _shape(chain)
    r = chunk or op_default_lanes(max(shape.widths), shape.m)
    lay = layout(shape)
    return Prediction(
        "op-reverse", r, 1, ceil(shape.m / r),
        madds_value=lay.total,
        madds_tangent=0,
        madds_adjoint=shape.m * lay.total_partials,
        bytes_tape=ENTRY_BYTES * lay.total,
        bytes_work=F64 * lay.slots * (1 + r),  # values, adjoint rows
        layer_steps=shape.depth,
    )


def predict_op_forward(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """⌈n/c⌉ sweeps of E operations each, n·P tangent multiply-adds."""
    shape = _shape(chain)
    c = chunk or op_default_lanes(max(shape.widths), shape.n)
    lay, sweeps = layout(shape), ceil(shape.n / c)
    return Prediction(
        "op-forward", c, sweeps, 0,
        madds_value=sweeps * lay.total,
        madds_tangent=shape.n * lay.total_partials,
        madds_adjoint=0,
        bytes_tape=0,
        bytes_work=F64 * lay.slots * (1 + c),  # values, tangent lanes
        layer_steps=sweeps * shape.depth,
    )


# --- passes: what each sweep moves, per layer, for the time model ---------------------------
#
# Priced by the bytes they move, as streaming passes. An operation is a few dependent loads
# and stores, not a vectorised loop, so it also counts the value slots it touches (in cache,
# but touched one at a time): reading its operands and a constant, writing its value
# (VALUE_BYTES); recording writes the entry; a replay reads it and reads and writes the
# adjoint rows of its output and operands; a dual operation reads its operands' lane rows
# and writes its own.

#: Bytes an operation touches besides its tape entry: two operands, a constant, its value.
VALUE_BYTES = 4 * F64


def _layer_bytes(shape: ChainShape, k: int) -> int:
    cls = shape.layers[k]
    return F64 * cls.parameters(shape.widths[k], shape.widths[k + 1])


def op_reverse_passes(shape: ChainShape, chunk: int | None = None) -> list[Pass]:
    """The recording sweep's layers, then each replay's, last layer first."""
    r = chunk or op_default_lanes(max(shape.widths), shape.m)
    lay = layout(shape)
    out = [Pass(lay.entries[k], _layer_bytes(shape, k)
                + (VALUE_BYTES + ENTRY_BYTES) * lay.entries[k], 1, False)
           for k in range(shape.depth)]
    for rows, sweeps in _blocks(shape.m, r):
        for k in reversed(range(shape.depth)):
            moved = ENTRY_BYTES * lay.entries[k] + 2 * F64 * rows * (lay.entries[k] + lay.partials[k])
            out.append(Pass(rows * lay.partials[k], moved, rows, False, sweeps))
        out.append(copy_pass(rows * (shape.n + lay.slots), sweeps))  # seeds cleared, J's rows
    return out


def op_forward_passes(shape: ChainShape, chunk: int | None = None) -> list[Pass]:
    """Per sweep and layer: its operations' values, and their c lanes."""
    c = chunk or op_default_lanes(max(shape.widths), shape.n)
    lay = layout(shape)
    out = []
    for lanes, sweeps in _blocks(shape.n, c):
        for k in range(shape.depth):
            out.append(Pass(lay.entries[k], _layer_bytes(shape, k) + VALUE_BYTES * lay.entries[k],
                            1, False, sweeps))
            moved = F64 * lanes * (lay.entries[k] + lay.partials[k])
            out.append(Pass(lanes * lay.partials[k], moved, lanes, False, sweeps))
        out.append(copy_pass(lanes * (shape.m + lay.slots), sweeps))  # lanes cleared, J's columns
    return out
