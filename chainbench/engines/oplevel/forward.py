"""``op-forward``: forward mode with dual numbers per scalar. Every value slot carries c
tangent lanes beside its value (ForwardDiff.jl's ``Dual{N}``, chunked, but as one flat
slots × c block, never an object per scalar); each primitive operation pushes them by its
partials from the one table (``model.primitives``). ⌈n/c⌉ sweeps, each seeded with c basis
directions; nothing is recorded."""

from __future__ import annotations

import functools

import numpy as np

from ..._jit import kernel
from ...cost.work import widest
from ...cost.operations import op_default_lanes, op_forward_plan
from ...cost.work import Plan
from ...model.counters import (
    BYTES_WORK,
    LAYER_STEPS,
    MADDS_TANGENT,
    MADDS_VALUE,
    SWEEPS_FORWARD,
)
from ...model.lowering import check_lowered, layout
from ...model.ops import ENTRIES, PARTIALS, dual_state
from ..contract import Engine, Run
from ._sweeps import SINK, SLOTS, run_lowerings


@kernel
def _jacobian(table, params, lay, chunk, schedule, x, J, counts):
    """Sweep s seeds the columns schedule[s, 0] … + schedule[s, 1] - 1 (at most ``chunk``)."""
    m = J.shape[0]
    slots = lay[SLOTS]
    vals = np.zeros(slots)
    lanes = np.empty((slots, chunk))
    cursor = np.zeros(2, dtype=np.int64)
    counts[BYTES_WORK] += (vals.size + lanes.size) * 8
    for s in range(schedule.shape[0]):
        j0, c = schedule[s, 0], schedule[s, 1]
        vals[: x.shape[0]] = x
        lanes[:, :] = 0.0  # the sink's lanes, and the inputs' outside this chunk, stay 0
        for l in range(c):
            lanes[j0 + l, l] = 1.0
        st = dual_state(vals, lanes, c, cursor, lay[SINK])
        before = cursor[PARTIALS]
        first = run_lowerings(table, params, lay, st)
        for i in range(m):
            for l in range(c):
                J[i, j0 + l] = lanes[first + i, l]
        counts[SWEEPS_FORWARD] += 1
        counts[MADDS_TANGENT] += c * (cursor[PARTIALS] - before)
        counts[LAYER_STEPS] += table.shape[0]
    counts[MADDS_VALUE] += cursor[ENTRIES]


def bind(program, chunk: int) -> Run:
    """Fill J (m, n) ``chunk`` columns per sweep: the sweeps of its plan."""
    check_lowered(program.shape, "op-forward")
    return run_plan(program, op_forward_plan(program.shape, chunk))


def run_plan(program, plan: Plan) -> Run:
    """The kernel running ``plan``'s sweeps: its tangent blocks compiled, once, into the
    columns each sweep seeds (``Plan.schedule``)."""
    schedule = plan.schedule()
    return functools.partial(_jacobian, program.table, program.params,
                             layout(program.shape).array(), widest(schedule), schedule)


ENGINE = Engine(
    "op-forward", "dual numbers per scalar: each primitive operation pushes c tangent lanes; "
    "⌈n/c⌉ sweeps",
    bind=bind, plan=op_forward_plan, lanes="n",
    default_chunk=op_default_lanes, algorithm="forward", level="operation",
)
