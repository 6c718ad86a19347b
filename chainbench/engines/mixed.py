"""Mixed mode: execute an optimal bracketing (see ``plan``) with the layers' rules. One
recording sweep fills the tape; then each step of the plan pushes tangent lanes, pulls
cotangent rows, writes a layer's Jacobian, or multiplies two accumulated blocks."""

from __future__ import annotations

from functools import partial

import numpy as np

from .._jit import kernel
from ..cost.optimal import time_choice
from ..cost.plan import Step
from ..cost.predictions import default_lanes
from ..cost.sweeps import madds_choice, optimal_plan
from ..model.counters import (
    BYTES_WORK,
    MADDS_ACCUMULATE,
    MADDS_TANGENT,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
)
from ..model.layers.dispatch import S_OFF, W_IN, W_OUT, layer_explicit, layer_tangent
from . import forward, reverse
from ._sweeps import pull_range
from .contract import Engine, Run
from .reverse import _record


@kernel
def _push_range(table, params, lo, hi, tape, X_dot, counts):
    """Tangent lanes X_dot (n_lo, c) through layers lo..hi-1 from the recorded tape."""
    c = X_dot.shape[1]
    width = 0
    for k in range(lo, hi):
        width = max(width, table[k, W_OUT])
    lanes = np.empty((2, width * c))
    counts[BYTES_WORK] += lanes.size * 8
    T = X_dot
    for k in range(lo, hi):
        w = table[k, W_OUT]
        Y = lanes[k % 2][: w * c].reshape((w, c))
        counts[MADDS_TANGENT] += layer_tangent(table[k], params, tape[table[k, S_OFF] :], T, Y)
        T = Y
    counts[SWEEPS_FORWARD] += 1
    out = T.copy()
    counts[BYTES_WORK] += out.size * 8
    return out


@kernel
def _pull_block(table, params, lo, hi, tape, U, max_width, counts):
    """Cotangent rows U (r, n_hi) back through layers hi-1..lo from the recorded tape."""
    adj = np.empty((2, max_width * U.shape[0]))
    counts[BYTES_WORK] += adj.size * 8
    X_bar = pull_range(table, params, lo, hi, tape, 0, U, adj, counts)
    counts[SWEEPS_BACKWARD] += 1
    out = X_bar.copy()
    counts[BYTES_WORK] += out.size * 8
    return out


@kernel
def _explicit(table, params, k, tape, counts):
    J = np.empty((table[k, W_OUT], table[k, W_IN]))
    counts[BYTES_WORK] += J.size * 8
    counts[MADDS_ACCUMULATE] += layer_explicit(table[k], params, tape[table[k, S_OFF] :], 0, 0, J)
    return J


@kernel
def _product(A, B, counts):
    C = np.empty((A.shape[0], B.shape[1]))
    np.dot(A, B, C)
    counts[BYTES_WORK] += C.size * 8
    counts[MADDS_ACCUMULATE] += A.shape[0] * A.shape[1] * B.shape[1]
    return C


def _identity(width: int, counts: np.ndarray) -> np.ndarray:
    counts[BYTES_WORK] += width * width * 8
    return np.eye(width)


def run_step(step: Step, program, tape: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """J[step.lo:step.hi] as a dense block, by the step's kind."""
    table, params = program.table, program.params
    widths = program.shape.widths
    if step.kind == "explicit":
        return _explicit(table, params, step.lo, tape, counts)
    if step.kind == "product":
        return _product(run_step(step.left, program, tape, counts),
                        run_step(step.right, program, tape, counts), counts)
    if step.kind == "tangents":
        X = (_identity(widths[step.lo], counts) if step.inner is None
             else run_step(step.inner, program, tape, counts))
        first = step.lo if step.inner is None else step.mid
        return _push_range(table, params, first, step.hi, tape, X, counts)
    U = (_identity(widths[step.hi], counts) if step.inner is None
         else run_step(step.inner, program, tape, counts))
    last = step.hi if step.inner is None else step.mid
    return _pull_block(table, params, step.lo, last, tape, U, program.max_width, counts)


#: The pure engine whose own kernel runs a whole-chain sweep (``Step.pure``), and the lanes
#: its chunk counts.
PURE = {"tangents": (forward, "n"), "adjoints": (reverse, "m")}


def bind(choose, program, chunk: None = None) -> Run:
    """Fill J (m, n) by the bracketing ``choose(shape)`` returns (its root Step), step by
    step; a bracketing that is a pure mode's sweeps (``Step.pure``) by that engine's own
    bound kernel, sparing the block copies."""
    root = choose(program.shape)
    if root.pure is not None:
        engine, side = PURE[root.pure]
        lanes = program.shape.n if side == "n" else program.shape.m
        return engine.bind(program, default_lanes(program.max_width, lanes))
    return partial(_run_plan, program, root)


def _run_plan(program, root: Step, x: np.ndarray, J: np.ndarray, counts: np.ndarray) -> None:
    tape = np.empty(program.tape_size)
    _record(program.table, program.params, program.max_width, x, tape, counts)
    J[:, :] = run_step(root, program, tape, counts)


def _engine(name: str, choose, summary: str) -> Engine:
    def plan(shape, chunk=None):
        return optimal_plan(shape, chunk, choice=choose(shape), mode=name)

    return Engine(name, summary, bind=partial(bind, choose), plan=plan)


ENGINE = _engine("optimal", time_choice,
                 "the bracketing of the Jacobian chain predicted fastest on this machine")
MADDS = _engine("optimal-madds", madds_choice,
                "the bracketing of the Jacobian chain with the fewest multiply-adds")
