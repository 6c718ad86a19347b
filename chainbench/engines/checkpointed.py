"""Checkpointed reverse mode: the forward sweep keeps only snapshots of layer values; the
backward sweep recomputes each stretch from its snapshot, recording that stretch's tape
alone, and pulls the cotangent rows through it. Same Jacobian, less memory, more work."""

from __future__ import annotations

from functools import partial

import numpy as np

from .._jit import kernel
from ..cost.checkpoint import ADVANCE, Schedule, schedule
from ..cost.predictions import default_lanes
from ..cost.sweeps import checkpointed_plan
from ..model.counters import (
    BYTES_SNAPSHOTS,
    BYTES_TAPE,
    BYTES_WORK,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
)
from ..model.layers.dispatch import S_OFF, W_IN
from ..model.program import advance
from ._sweeps import pull_range, pull_seeded, record_range
from .contract import Engine, Run


def tape_floats(table: np.ndarray, full_tape: int, sched: Schedule) -> int:
    """Floats of the longest tape a REVERSE action records (the slots of layers a..b-1);
    ``full_tape`` is the size of a whole chain's tape, where the last slot ends."""
    ends = np.append(table[1:, S_OFF], full_tape)
    best = 0
    for op, a, b, _, _ in sched.actions:
        if op != ADVANCE:
            best = max(best, int(ends[b - 1] - table[a, S_OFF]))
    return best


@kernel
def _sweep(table, params, actions, slots, i0, r, tape, adj, vals, counts):
    """One backward sweep of rows i0..i0+r under the schedule; returns a view of J[i0:i0+r].
    The first REVERSE action holds the last layer, so it starts from that layer's rows."""
    Y_bar = adj[0][:0].reshape((0, 0))  # typed placeholder; the last stretch sets it
    for i in range(actions.shape[0]):
        op, a, b, src, dst = actions[i, 0], actions[i, 1], actions[i, 2], actions[i, 3], actions[i, 4]
        x = slots[src][: table[a, W_IN]]
        if op == ADVANCE:
            y = advance(table, params, a, b, x, vals, counts)
            slots[dst][: y.shape[0]] = y
        else:
            base = table[a, S_OFF]
            record_range(table, params, a, b, x, tape, base, counts, vals)
            if b == table.shape[0]:
                Y_bar = pull_seeded(table, params, a, tape, base, i0, r, adj, counts)
            else:
                Y_bar = pull_range(table, params, a, b, tape, base, Y_bar, adj, counts)
    counts[SWEEPS_FORWARD] += 1
    counts[SWEEPS_BACKWARD] += 1
    return Y_bar


@kernel
def _jacobian(table, params, max_width, actions, n_slots, tape_size, blocks, x, J, counts):
    """The plan's sweeps: for each row (i0, r) of ``blocks`` (``Plan.schedule``), rows
    i0..i0+r of J by one replay of the checkpoint schedule ``actions``."""
    chunk = 0
    for s in range(blocks.shape[0]):
        chunk = max(chunk, blocks[s, 1])
    slots = np.empty((n_slots + 1, max_width))  # + the scratch slot
    tape = np.empty(tape_size)
    vals = np.empty((2, max_width))
    adj = np.empty((2, max_width * chunk))
    counts[BYTES_SNAPSHOTS] += slots.size * 8
    counts[BYTES_TAPE] += tape.size * 8
    counts[BYTES_WORK] += (vals.size + adj.size) * 8
    slots[0][: x.shape[0]] = x
    for s in range(blocks.shape[0]):
        i0, r = blocks[s, 0], blocks[s, 1]
        J[i0 : i0 + r, :] = _sweep(table, params, actions, slots, i0, r, tape, adj, vals, counts)


def bind(kind: str, program, chunk: int, snapshots: int | None = None) -> Run:
    """Fill J (m, n) row block by row block under a ``kind`` schedule ('sqrt' or 'revolve')
    with ``snapshots`` (default ⌈√K⌉; see ``cost.checkpoint.schedule``): the plan
    ``checkpointed_plan`` describes, run by ``bind_plan``."""
    return bind_plan(kind, program, checkpointed_plan(program.shape, chunk, snapshots, kind),
                     snapshots)


def bind_plan(kind: str, program, plan, snapshots: int | None = None) -> Run:
    """Run ``plan``'s sweeps (its ``lane_blocks``), each a replay of the schedule."""
    sched = schedule(kind, program.table.shape[0], snapshots)
    size = tape_floats(program.table, program.tape_size, sched)
    return partial(_jacobian, program.table, program.params, program.max_width, sched.actions,
                   sched.slots, size, plan.schedule())


def _engine(name: str, kind: str, summary: str) -> Engine:
    return Engine(
        name, summary, bind=partial(bind, kind),
        plan=partial(checkpointed_plan, kind=kind), lanes="m",
        default_chunk=default_lanes, options=("snapshots",), algorithm="reverse",
        snapshots=lambda program, snapshots: schedule(kind, program.table.shape[0],
                                                      snapshots).snapshots,
    )


SQRT = _engine("sqrt-checkpoint", "sqrt",
               "reverse mode keeping ⌈√K⌉ segment starts, each segment recomputed once")
REVOLVE = _engine("revolve", "revolve",
                  "binomial checkpointing: the fewest recomputed layers for s snapshot slots")
