"""Reverse mode with a tape: one forward sweep records what each layer's VJP needs, then
backward sweeps replay it, each pulling a chunk of r cotangent rows from output to input."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from .._jit import inlined, kernel
from ..cost.predictions import default_lanes
from ..cost.sweeps import reverse_plan
from ..model.counters import (
    BYTES_TAPE,
    BYTES_WORK,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
)
from ..model.layers.dispatch import S_OFF
from ._sweeps import pull_range, pull_seeded, record_range
from .contract import Engine, Run


@dataclass(frozen=True)
class Tape:
    """The record of one forward sweep: per layer (in order) its name and the slice of
    ``values`` holding what its VJP needs (g'(x) for activations, y for softmax, nothing
    for dense layers, whose W is a parameter)."""

    layers: tuple[str, ...]
    offsets: np.ndarray  # start of each layer's slot in values; slot k ends at offsets[k + 1]
    values: np.ndarray
    output: np.ndarray  # f(x)

    def __len__(self) -> int:
        return len(self.layers)

    def entry(self, k: int) -> np.ndarray:
        return self.values[self.offsets[k] : self.offsets[k + 1]]

    @property
    def nbytes(self) -> int:
        return self.values.nbytes


@kernel
def _record(table, params, max_width, x, tape, counts):
    """Forward sweep that writes each layer's VJP needs into its tape slot; returns f(x)."""
    vals = np.empty((2, max_width))
    y = record_range(table, params, 0, table.shape[0], x, tape, 0, counts, vals)
    counts[SWEEPS_FORWARD] += 1
    counts[BYTES_TAPE] += tape.size * 8
    counts[BYTES_WORK] += vals.size * 8
    return y.copy()


@kernel
def _pull(table, params, tape, U, adj, counts):
    """One backward sweep of cotangent rows U (r, m); returns a view of U J (r, n)."""
    X_bar = pull_range(table, params, 0, table.shape[0], tape, 0, U, adj, counts)
    counts[SWEEPS_BACKWARD] += 1
    return X_bar


@kernel
def _vjp(table, params, max_width, tape_size, x, U, counts):
    tape = np.empty(tape_size)
    y = _record(table, params, max_width, x, tape, counts)
    adj = np.empty((2, max_width * U.shape[0]))
    counts[BYTES_WORK] += adj.size * 8
    return y, _pull(table, params, tape, U, adj, counts).copy()


def vjp(program, x: np.ndarray, U: np.ndarray, counts: np.ndarray):
    """(f(x), U J) for U of shape (r, m), in one recording and one backward sweep."""
    return _vjp(program.table, program.params, program.max_width, program.tape_size, x, U, counts)


@inlined
def _up4(size):
    """size rounded up to a multiple of 4 floats (32 bytes)."""
    return (size + 3) // 4 * 4


@kernel
def _jacobian(table, params, max_width, tape_size, schedule, x, J, counts):
    """The plan's sweeps: one recording sweep, then for each row (i0, r) of ``schedule``
    (``Plan.schedule``), rows i0..i0+r of J in one backward sweep of r rows."""
    n = J.shape[1]
    chunk = 0
    for s in range(schedule.shape[0]):
        chunk = max(chunk, schedule[s, 1])
    # One allocation for the tape, the values and the cotangent rows (at n = 32 each
    # allocation is a few percent of the whole Jacobian), each part and row starting on a
    # 32-byte boundary, as Numba's allocation does: vector loads that straddle cache lines
    # made small gradients up to 40 % slower, by the luck of the offsets.
    tape_end, val_row, adj_row = _up4(tape_size), _up4(max_width), _up4(max_width * chunk)
    buffer = np.empty(tape_end + 2 * val_row + 2 * adj_row)
    tape = buffer[:tape_size]
    vals = buffer[tape_end : tape_end + 2 * val_row].reshape((2, val_row))
    adj = buffer[tape_end + 2 * val_row :].reshape((2, adj_row))
    record_range(table, params, 0, table.shape[0], x, tape, 0, counts, vals)
    counts[SWEEPS_FORWARD] += 1
    counts[BYTES_TAPE] += tape_size * 8
    counts[BYTES_WORK] += (2 * max_width + 2 * max_width * chunk) * 8  # padding not counted
    for s in range(schedule.shape[0]):
        i0, r = schedule[s, 0], schedule[s, 1]
        rows = pull_seeded(table, params, 0, tape, 0, i0, r, adj, counts)
        for l in range(r):  # loops: numba's 2-D slice assignment costs ~150 ns at this size
            for j in range(n):
                J[i0 + l, j] = rows[l, j]
        counts[SWEEPS_BACKWARD] += 1


def bind(program, chunk: int) -> Run:
    """Fill J (m, n) row block by row block, ``chunk`` rows per backward sweep: the plan
    ``reverse_plan`` describes, run by ``bind_plan``."""
    return bind_plan(program, reverse_plan(program.shape, chunk))


def bind_plan(program, plan) -> Run:
    """Run ``plan``'s sweeps (its ``lane_blocks``, as ``Plan.schedule``), each seeded with
    rows of the last layer's Jacobian (``_sweeps.pull_seeded``)."""
    return partial(_jacobian, program.table, program.params, program.max_width,
                   program.tape_size, plan.schedule())


def record(chain, x: np.ndarray, counts: np.ndarray) -> Tape:
    """Run the recording sweep and return the tape as an inspectable structure."""
    program = chain.program
    values = np.empty(program.tape_size)
    y = _record(program.table, program.params, program.max_width, x, values, counts)
    offsets = np.append(program.table[:, S_OFF], program.tape_size)
    return Tape(tuple(layer.name for layer in chain.layers), offsets, values, y)


ENGINE = Engine(
    "reverse", "one forward sweep records a tape; ⌈m/c⌉ backward sweeps pull c rows each",
    bind=bind, plan=reverse_plan, lanes="m",
    default_chunk=default_lanes, algorithm="reverse", vjp=vjp,
)
