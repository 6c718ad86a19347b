"""The plans of the operation-level engines, from layer kinds and widths alone: what
``op-reverse`` and ``op-forward`` run, the counters they fill and the passes the time model
prices.

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

from ..model.chain import Chain, ChainShape, shape_of
from ..model.lowering import layout
from ..model.ops import ENTRY_BYTES
from .predictions import F64
from .work import Pass, Plan, alloc_pass, blocks, copy_pass, lane_blocks

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


# --- passes: what each sweep moves, per layer, for the time model ---------------------------
#
# Priced by the bytes they move or by the measured cost of an operation per tape entry or
# partial (``machine.own_costs.measure_op_costs``), whichever is slower. What streams, at
# the rate of the call's working set, is the layer's parameters and the tape: recording
# writes each entry, a replay reads it. An operation is a few dependent loads and stores,
# not a vectorised loop, so it also touches value slots one at a time — its operands, a
# constant and its value (VALUE_BYTES), a replay's adjoint rows of its output and
# operands, a dual operation's lane rows — but inside the block of slots (× lanes), which
# stays in its cache level however long the tape: those are ``touched`` bytes, priced at
# that block's rate (``Pass.touched``).

#: Bytes an operation touches besides its tape entry: two operands, a constant, its value.
VALUE_BYTES = 4 * F64


def layer_bytes(shape: ChainShape, k: int) -> int:
    cls = shape.layers[k]
    return F64 * cls.parameters(shape.widths[k], shape.widths[k + 1])


def op_pass(shape: ChainShape, k: int, rule: str, madds: int, streamed: int, touched: int,
            block: int, lanes: int = 1, count: int = 1) -> Pass:
    """Layer k's operations run by an operation-level sweep: ``madds`` (entries or
    partials × lanes), ``streamed`` bytes (parameters, tape) and ``touched`` ones in a
    ``block`` of slots × lanes."""
    return Pass(madds=madds, bytes=streamed, lanes=lanes, product=False, count=count,
                layer=shape.layers[k].name, rule=rule, per_madd=True, level="operation",
                touched=touched, block=block)


def record_pass(shape: ChainShape, lay, k: int) -> Pass:
    """Layer k's operations recorded: its parameters read, one tape entry written each,
    their value slots touched."""
    return op_pass(shape, k, "record", lay.entries[k],
                   layer_bytes(shape, k) + ENTRY_BYTES * lay.entries[k],
                   VALUE_BYTES * lay.entries[k], F64 * lay.slots)


def op_reverse_plan(chain: Chain | ChainShape, chunk: int | None = None) -> Plan:
    """One recording sweep (E operations, E tape entries), then ⌈m/r⌉ replays (m·P), each
    layer's operations last layer first."""
    shape = shape_of(chain)
    r = chunk or op_default_lanes(max(shape.widths), shape.m)
    lay = layout(shape)
    out = [alloc_pass(ENTRY_BYTES * lay.total, "tape", allocator="numpy"),  # new_tape
           alloc_pass(F64 * lay.slots * (1 + r))]  # values, adjoint rows
    values = F64 * lay.slots
    out += [record_pass(shape, lay, k) for k in range(shape.depth)]
    for rows, sweeps in blocks(shape.m, r):
        for k in reversed(range(shape.depth)):
            out.append(op_pass(shape, k, "adjoint", rows * lay.partials[k],
                               ENTRY_BYTES * lay.entries[k],
                               2 * F64 * rows * (lay.entries[k] + lay.partials[k]),
                               values * rows, rows, sweeps))
        out.append(copy_pass(rows * (shape.n + lay.slots), sweeps))  # seeds cleared, J's rows
    return Plan(mode="op-reverse", chunk=r, passes=tuple(out), sweeps_forward=1,
                sweeps_backward=-(-shape.m // r), shape=shape,
                lane_blocks=lane_blocks(shape.m, r))


def op_forward_plan(chain: Chain | ChainShape, chunk: int | None = None) -> Plan:
    """⌈n/c⌉ sweeps, per layer its operations' values and their c lanes (n·P in all)."""
    shape = shape_of(chain)
    c = chunk or op_default_lanes(max(shape.widths), shape.n)
    lay = layout(shape)
    out = [alloc_pass(F64 * lay.slots * (1 + c))]  # values, tangent lanes
    for lanes, sweeps in blocks(shape.n, c):
        for k in range(shape.depth):
            out.append(op_pass(shape, k, "value", lay.entries[k], layer_bytes(shape, k),
                               VALUE_BYTES * lay.entries[k], F64 * lay.slots, 1, sweeps))
            out.append(op_pass(shape, k, "tangent", lanes * lay.partials[k], 0,
                               F64 * lanes * (lay.entries[k] + lay.partials[k]),
                               F64 * lay.slots * lanes, lanes, sweeps))
        out.append(copy_pass(lanes * (shape.m + lay.slots), sweeps))  # lanes cleared, J's columns
    return Plan(mode="op-forward", chunk=c, passes=tuple(out), sweeps_forward=-(-shape.n // c),
                shape=shape, lane_blocks=lane_blocks(shape.n, c))
