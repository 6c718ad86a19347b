"""hessian-optimal: executes the bracketing ``cost.hessian_plan`` chose. One value sweep keeps
every point's value and one backward sweep every adjoint ū_k; then each sub-chain's Hessian
is its layer's local Hessian (a kernel), forward-over-reverse on it alone, or a split:
J[i, s]ᵀ H[s+1, j] J[i, s] + H[i, s], with J[i, s] by the first-order engines and the
congruence by BLAS."""

from __future__ import annotations

import numpy as np

from ..._jit import kernel
from ...cost.hessian_plan import congruence_madds, plan_hessian
from ...cost.predictions import default_lanes
from ...model.chain import Chain
from ...model.counters import (
    BYTES_TAPE,
    LAYER_STEPS,
    MADDS_ACCUMULATE,
    MADDS_VALUE,
    SWEEPS_BACKWARD,
    SWEEPS_FORWARD,
    TAPE_ENTRIES,
)
from ...model.counters import new_counters as first_counters
from ...model.layers.dispatch import (
    S_OFF,
    W_IN,
    W_OUT,
    layer_curvature,
    layer_explicit,
    layer_record,
    layer_record2,
)
from .. import forward, reverse
from ._sweeps import MADDS_CURVATURE, gradient_rows


@kernel
def _globals(table, params, tape_size, points, x, u, values, bars, counts):
    """Every point's value into ``values`` and every ū into ``bars`` (one entry per point)."""
    tape = np.empty(tape_size)
    values[: points[1]] = x
    for k in range(table.shape[0]):
        v = values[points[k] : points[k + 1]]
        y = values[points[k + 1] : points[k + 2]]
        counts[MADDS_VALUE] += layer_record(table[k], params, v, y, tape[table[k, S_OFF] :])
    gradient_rows(table, params, tape, u, bars, points, counts)
    counts[SWEEPS_FORWARD] += 1
    counts[SWEEPS_BACKWARD] += 1
    counts[LAYER_STEPS] += table.shape[0]
    counts[TAPE_ENTRIES] += table.shape[0]
    counts[BYTES_TAPE] += (tape_size + values.size + bars.size) * 8


@kernel
def _local(table, params, k, x, u_bar, H, counts):
    """H = ū_k·∇²f_k at x: the curvature over the identity's lanes."""
    row = table[k]
    w_in, w_out = row[W_IN], row[W_OUT]
    y, saved, curv = np.empty(w_out), np.empty(w_out), np.empty(w_out)
    counts[MADDS_VALUE] += layer_record(row, params, x, y, saved)
    counts[MADDS_CURVATURE] += layer_record2(row, params, x, y, saved, curv)
    Y = np.empty((w_out, w_in))
    counts[MADDS_ACCUMULATE] += layer_explicit(row, params, saved, 0, 0, Y)
    H[:, :] = 0.0
    counts[MADDS_CURVATURE] += layer_curvature(row, params, saved, curv, np.eye(w_in), Y,
                                               u_bar.reshape((1, w_out)), H)


def run(chain: Chain, x: np.ndarray, u: np.ndarray, counts: np.ndarray, compute) -> np.ndarray:
    """The Hessian of u·f at x by the chosen bracketing; ``compute`` runs a pure mode."""
    plan, _ = plan_hessian(chain.shape)
    if plan[0] == "whole":
        return compute(chain.program, "forward-over-reverse", None, x, u, None, counts)
    program, widths = chain.program, chain.widths
    points = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
    values, bars = np.empty(points[-1]), np.empty(points[-1])
    _globals(program.table, program.params, program.tape_size, points, x, u, values, bars,
             counts)
    at = lambda buf, k: buf[points[k] : points[k + 1]]  # noqa: E731
    state = (chain, program, at, values, bars, counts, compute)
    return _node(plan[1], state)


def _node(node, state):
    """The Hessian (w_i, w_i) of one plan node; None for a zero one."""
    chain, program, at, values, bars, counts, compute = state
    kind = node[0]
    if kind == "zero":
        return None
    if kind == "leaf":
        k = node[1]
        H = np.empty((chain.widths[k], chain.widths[k]))
        _local(program.table, program.params, k, at(values, k).copy(), at(bars, k + 1).copy(),
               H, counts)
        return H
    i, j = node[1], node[-1] if kind == "pure" else node[3]
    if kind == "pure":
        part = _part(chain, i, j)
        return compute(part.program, "forward-over-reverse", None, at(values, i).copy(),
                       at(bars, j + 1).copy(), None, counts)
    _, i, s, j, jac, left, right = node
    H = _node(left, state)
    H_right = _node(right, state)
    if H_right is None:
        return H
    J = _jacobian(_part(chain, i, s), jac,
                  at(values, i).copy(), counts)
    product = J.T @ (H_right @ J)
    counts[MADDS_ACCUMULATE] += congruence_madds(chain.widths[i], chain.widths[s + 1])
    return product if H is None else H + product


def _part(chain: Chain, i: int, j: int) -> Chain:
    """Layers i..j as a chain of their own, built (and its program compiled) once per chain,
    as the chain's own program is: a call would otherwise spend most of its time on them."""
    parts = chain.__dict__.setdefault("_hessian_parts", {})
    if (i, j) not in parts:
        parts[i, j] = Chain(chain.layers[i : j + 1], n=chain.widths[i])
    return parts[i, j]


def _jacobian(part: Chain, mode: str, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """J of a sub-chain by forward or reverse mode at its default chunk."""
    engine = forward if mode == "forward" else reverse
    lanes = part.n if mode == "forward" else part.m
    J, first = np.empty((part.m, part.n)), first_counters()
    engine.bind(part.program, default_lanes(part.program.max_width, lanes))(x, J, first)
    counts[: first.size] += first
    return J
