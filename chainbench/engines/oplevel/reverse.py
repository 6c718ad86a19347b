"""``op-reverse``: reverse mode on a Wengert list. One forward sweep runs every layer's
lowering on a recording state, which appends each primitive operation to the tape (op code,
output slot, operand slots, the two local partials), in flat arrays inside jitted code;
then ⌈m/r⌉ backward passes replay the tape from its end, each pulling r adjoint rows."""

from __future__ import annotations

import numpy as np

from ..._jit import kernel
from ...cost.work import widest
from ...cost.operations import op_default_lanes, op_reverse_plan
from ...cost.work import Plan
from ...model.counters import (
    BYTES_TAPE,
    BYTES_WORK,
    LAYER_STEPS,
    MADDS_ADJOINT,
    MADDS_VALUE,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
    TAPE_ENTRIES,
)
from ...model.lowering import check_lowered, layout
from ...model.ops import ENTRIES, ENTRY_BYTES, PARTIALS, record_state
from ..contract import Engine, Run
from ._sweeps import SINK, SLOTS, replay, run_lowerings


@kernel
def record(table, params, lay, x, vals, index, partial, counts):
    """The forward sweep: values into ``vals`` (x at slots 0…n−1), each operation into the
    tape (``index``, ``partial``); returns (first output slot, partials on the tape).
    Refuses a tape whose length is not what the layers' ``op_counts`` promised."""
    vals[:] = 0.0
    vals[: x.shape[0]] = x
    cursor = np.zeros(2, dtype=np.int64)
    first = run_lowerings(table, params, lay, record_state(vals, index, partial, cursor,
                                                           lay[SINK]))
    if cursor[ENTRIES] != index.shape[0]:
        raise RuntimeError("a lowering emitted another number of operations than its "
                           "layer's op_counts says")
    counts[SWEEPS_FORWARD] += 1
    counts[TAPE_ENTRIES] += cursor[ENTRIES]
    counts[MADDS_VALUE] += cursor[ENTRIES]
    counts[LAYER_STEPS] += table.shape[0]
    counts[BYTES_TAPE] += cursor[ENTRIES] * ENTRY_BYTES
    return first, cursor[PARTIALS]


@kernel
def _jacobian(table, params, lay, chunk, schedule, index, partial, x, J, counts):
    """Replay s pulls the rows schedule[s, 0] … + schedule[s, 1] - 1 (at most ``chunk``)."""
    n = J.shape[1]
    vals = np.empty(lay[SLOTS])
    first, parts = record(table, params, lay, x, vals, index, partial, counts)
    adj = np.empty((lay[SLOTS], chunk))
    counts[BYTES_WORK] += (vals.size + adj.size) * 8
    for s in range(schedule.shape[0]):
        i0, r = schedule[s, 0], schedule[s, 1]
        adj[:, :] = 0.0
        for l in range(r):  # seed: row i0 + l of J is the adjoint of output i0 + l
            adj[first + i0 + l, l] = 1.0
        replay(index, partial, adj, r)
        for l in range(r):  # the inputs' adjoints, in slots 0…n−1
            for j in range(n):
                J[i0 + l, j] = adj[j, l]
        counts[SWEEPS_BACKWARD] += 1
        counts[MADDS_ADJOINT] += r * parts


def new_tape(entries: int) -> tuple[np.ndarray, np.ndarray]:
    """Empty tape arrays: the index block (entries, 4: code, out, a, b), int32, and the
    partials (entries, 2). Allocated by numpy, which asks Linux for huge pages for large
    arrays: writing a fresh tape is bound by page faults, and numpy's arrays took them at
    2 GB/s where arrays allocated inside the kernel took them at 0.8 GB/s."""
    return np.empty((entries, 4), dtype=np.int32), np.empty((entries, 2))


def bind(program, chunk: int) -> Run:
    """Fill J (m, n) ``chunk`` rows per backward pass, all from one tape recorded per call
    (a new one each call: its memory is the call's, as a tape-based tool's is)."""
    check_lowered(program.shape, "op-reverse")
    return run_plan(program, op_reverse_plan(program.shape, chunk))


def run_plan(program, plan: Plan, reuse_tape: bool = False) -> Run:
    """The kernel running ``plan``'s replays: its adjoint blocks compiled, once, into the
    rows each replay pulls (``Plan.schedule``). ``reuse_tape``: one tape, written once now,
    for every call — what a caller sees whose allocator hands it the same memory back;
    calibration times the record rule so, without the page faults of a fresh tape, which
    the plan's 'alloc' pass prices."""
    lay = layout(program.shape)
    table, params, arr, entries = program.table, program.params, lay.array(), lay.total
    schedule = plan.schedule()
    chunk = widest(schedule)
    if reuse_tape:
        index, partial = new_tape(entries)
        index.fill(0)
        partial.fill(0.0)

        def run(x, J, counts):
            _jacobian(table, params, arr, chunk, schedule, index, partial, x, J, counts)

        return run

    def run(x, J, counts):
        _jacobian(table, params, arr, chunk, schedule, *new_tape(entries), x, J, counts)

    return run


ENGINE = Engine(
    "op-reverse", "a Wengert list of primitive operations recorded once; ⌈m/c⌉ replays pull "
    "c rows each",
    bind=bind, plan=op_reverse_plan, lanes="m",
    default_chunk=op_default_lanes, algorithm="reverse", level="operation",
)
