"""Forward mode with dual numbers: a value vector and a block of c tangent lanes pushed
through the chain together; the Jacobian takes ⌈n/c⌉ sweeps, one per chunk of inputs."""

from __future__ import annotations

from functools import partial

import numpy as np

from .._jit import kernel
from ..cost.predictions import default_lanes
from ..cost.sweeps import forward_plan
from ..model.counters import (
    BYTES_WORK,
    LAYER_STEPS,
    MADDS_ACCUMULATE,
    MADDS_TANGENT,
    MADDS_VALUE,
    SWEEPS_FORWARD,
)
from ..model.layers.dispatch import W_OUT, layer_explicit, layer_jvp, layer_record
from .contract import Engine, Run


@kernel
def _sweep(table, params, lo, x, X_dot, vals, lanes, counts):
    """One forward sweep of (x, X_dot) through layers lo..K-1, X_dot (n_lo, c); returns
    views of (y, Y_dot)."""
    c = X_dot.shape[1]
    v, T = x, X_dot
    for k in range(lo, table.shape[0]):
        w = table[k, W_OUT]
        y = vals[k % 2][:w]
        Y = lanes[k % 2][: w * c].reshape((w, c))
        dv, dt = layer_jvp(table[k], params, v, T, y, Y)
        counts[MADDS_VALUE] += dv
        counts[MADDS_TANGENT] += dt
        v, T = y, Y
    counts[SWEEPS_FORWARD] += 1
    counts[LAYER_STEPS] += table.shape[0] - lo
    return v, T


@kernel
def _jvp(table, params, max_width, x, X_dot, counts):
    c = X_dot.shape[1]
    vals = np.empty((2, max_width))
    lanes = np.empty((2, max_width * c))
    counts[BYTES_WORK] += (vals.size + lanes.size) * 8
    y, Y = _sweep(table, params, 0, x, X_dot, vals, lanes, counts)
    return y.copy(), Y.copy()


def jvp(program, x: np.ndarray, X_dot: np.ndarray, counts: np.ndarray):
    """(f(x), J X_dot) for X_dot of shape (n, c), in one sweep."""
    return _jvp(program.table, program.params, program.max_width, x, X_dot, counts)


@kernel
def _jacobian(table, params, max_width, schedule, x, J, counts):
    """The plan's sweeps: for each row (j0, c) of ``schedule`` (``Plan.schedule``), columns
    j0..j0+c of J in one sweep of c lanes."""
    chunk = 0
    for s in range(schedule.shape[0]):
        chunk = max(chunk, schedule[s, 1])
    vals = np.empty((2, max_width))
    lanes = np.empty((2, max_width * chunk))
    counts[BYTES_WORK] += (vals.size + lanes.size) * 8
    w = table[0, W_OUT]
    for s in range(schedule.shape[0]):
        j0, c = schedule[s, 0], schedule[s, 1]
        y = vals[0][:w]
        Y = lanes[0][: w * c].reshape((w, c))
        # What layer 0's Jacobian needs (g'(x) for an activation) parks in vals[1], which
        # layer 1 overwrites only after the block is written; it fits, since no layer saves
        # more floats than it outputs (checked when the program is built).
        counts[MADDS_VALUE] += layer_record(table[0], params, x, y, vals[1])
        counts[MADDS_ACCUMULATE] += layer_explicit(table[0], params, vals[1], 0, j0, Y)
        counts[LAYER_STEPS] += 1
        _, T = _sweep(table, params, 1, y, Y, vals, lanes, counts)
        J[:, j0 : j0 + c] = T


def bind(program, chunk: int) -> Run:
    """Fill J (m, n) column block by column block, ``chunk`` columns per sweep: the plan
    ``forward_plan`` describes, run by ``bind_plan``."""
    return bind_plan(program, forward_plan(program.shape, chunk))


def bind_plan(program, plan) -> Run:
    """Run ``plan``'s sweeps (its ``lane_blocks``, as ``Plan.schedule``). A sweep from basis
    directions starts at columns j0..j0+c of layer 0's Jacobian (for a dense layer, columns
    of W): pushing the identity through it would cost c·out·in multiply-adds, a whole extra
    matrix product when m = n."""
    return partial(_jacobian, program.table, program.params, program.max_width,
                   plan.schedule())


ENGINE = Engine(
    "forward", "dual numbers: a value vector and c tangent lanes pushed together; ⌈n/c⌉ sweeps",
    bind=bind, plan=forward_plan, lanes="n",
    default_chunk=default_lanes, algorithm="forward", jvp=jvp,
)
