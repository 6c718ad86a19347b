"""Compressed (sparse) modes: one sweep lane per color of the Jacobian's columns or rows.

sparse-forward seeds each tangent lane with S[:, c] = Σ_{color(j) = c} e_j and pushes the
lanes through the chain as forward mode does, so B = J S (m × p) takes p lanes instead of
n; since the columns of one color share no row, J[i, j] = B[i, color(j)] for every
structural nonzero (i, j). sparse-reverse does the same with rows: U[c, :] = Σ e_iᵀ over
the rows of color c, pulled back after one recording sweep, B = U J (p × n), and
J[i, j] = B[color(i), j]. Preparation — the pattern (``model.sparsity``) and its coloring
(``cost.coloring``) — depends on the shape alone and is done once, when the mode is bound
to a chain (the harness's first call), never in a timed call.

J comes back dense (zeros written around the nonzeros) or, with ``dense=False``, as the
values of a CSR array over the pattern (``bound.Bound`` wraps them in scipy.sparse).
"""

from __future__ import annotations

import numpy as np

from .._jit import inlined, kernel
from ..cost.coloring import chain_coloring
from ..cost.predictions import default_lanes
from ..cost.sparse import column_colors, row_colors, sparse_forward_plan, sparse_reverse_plan
from ..cost.work import Plan, widest
from ..model.counters import BYTES_TAPE, BYTES_WORK, SWEEPS_BACKWARD, SWEEPS_FORWARD
from ..model.sparsity import is_full, structured_pattern
from ._sweeps import pull_range, record_range
from .contract import Engine, Run
from .forward import _sweep


@inlined
def _fill_seed(S, colors, c0):
    """S (k, c) = the basis vectors of colors c0 … c0 + c - 1, summed per color: S[j, l] = 1
    where entry j has color c0 + l."""
    S[:] = 0.0
    for j in range(S.shape[0]):
        if c0 <= colors[j] < c0 + S.shape[1]:
            S[j, colors[j] - c0] = 1.0


@kernel
def _seeded_columns(table, params, max_width, chunk, schedule, x, colors, B, counts):
    """B (m, p) = J S, S the n × p seed of the column colors: sweep s seeds colors
    schedule[s, 0] … + schedule[s, 1] - 1 (at most ``chunk`` lanes)."""
    n, m = x.shape[0], B.shape[0]
    vals = np.empty((2, max_width))
    lanes = np.empty((2, max_width * chunk))
    seed = np.empty(n * chunk)
    counts[BYTES_WORK] += (vals.size + lanes.size + seed.size + B.size) * 8
    for s in range(schedule.shape[0]):
        c0, c = schedule[s, 0], schedule[s, 1]
        S = seed[: n * c].reshape((n, c))
        _fill_seed(S, colors, c0)
        _, T = _sweep(table, params, 0, x, S, vals, lanes, counts)
        for i in range(m):
            for l in range(c):
                B[i, c0 + l] = T[i, l]


@kernel
def _seeded_rows(table, params, max_width, tape_size, chunk, schedule, x, colors, B, counts):
    """B (p, n) = U J, U the p × m seed of the row colors: backward sweep s pulls the rows
    of colors schedule[s, 0] … + schedule[s, 1] - 1 (at most ``chunk``)."""
    m, K = colors.shape[0], table.shape[0]
    tape = np.empty(tape_size)
    vals = np.empty((2, max_width))
    adj = np.empty((2, max_width * chunk))
    seed = np.empty(chunk * m)
    record_range(table, params, 0, K, x, tape, 0, counts, vals)
    counts[SWEEPS_FORWARD] += 1
    counts[BYTES_TAPE] += tape_size * 8
    counts[BYTES_WORK] += (vals.size + adj.size + seed.size + B.size) * 8
    for s in range(schedule.shape[0]):
        c0, c = schedule[s, 0], schedule[s, 1]
        U = seed[: c * m].reshape((c, m))
        _fill_seed(U.T, colors, c0)
        rows = pull_range(table, params, 0, K, tape, 0, U, adj, counts)
        for l in range(c):
            for j in range(B.shape[1]):
                B[c0 + l, j] = rows[l, j]
        counts[SWEEPS_BACKWARD] += 1


@kernel
def _unpack(indptr, indices, colors, B, by_column, J, data, dense):
    """J's structural nonzeros read from B: B[i, color(j)] (columns) or B[color(i), j]
    (rows), into the dense J (zeros elsewhere) or into the CSR values ``data``."""
    m = indptr.shape[0] - 1
    if dense:
        J[:] = 0.0
    for i in range(m):
        for a in range(indptr[i], indptr[i + 1]):
            j = indices[a]
            v = B[i, colors[j]] if by_column else B[colors[i], j]
            if dense:
                J[i, j] = v
            else:
                data[a] = v


class _Prepared:
    """What a sparse mode computes once per chain shape: the pattern's CSR structure (int64,
    for the kernels) and the coloring of its columns or rows."""

    def __init__(self, shape, side: str):
        if is_full(shape):  # every entry, row by row

            n, m = shape.n, shape.m
            self.indptr = np.arange(0, (m + 1) * n, n, dtype=np.int64)
            self.indices = np.tile(np.arange(n, dtype=np.int64), m)
        else:
            pattern = structured_pattern(shape)
            self.indptr = pattern.indptr.astype(np.int64)
            self.indices = pattern.indices.astype(np.int64)
        coloring = chain_coloring(shape, side)
        self.colors, self.p = coloring.colors.astype(np.int64), coloring.count


def _run_columns(program, schedule, prep, dense) -> Run:
    """J (or its CSR values) from the compressed forward sweeps of ``schedule``: what a call
    needs besides x, J and the counters is worked out here, once."""
    table, params, max_width, m = program.table, program.params, program.max_width, program.shape.m
    width, none_J, none_data = widest(schedule), np.empty((0, 0)), np.empty(0)

    def run(x, J, counts):
        B = np.empty((m, prep.p))
        _seeded_columns(table, params, max_width, width, schedule, x, prep.colors, B, counts)
        _unpack(prep.indptr, prep.indices, prep.colors, B, True, J if dense else none_J,
                none_data if dense else J, dense)

    return run


def _run_rows(program, schedule, prep, dense) -> Run:
    """J (or its CSR values) from one recording sweep and the compressed backward sweeps of
    ``schedule``, as ``_run_columns``."""
    table, params, max_width, n = program.table, program.params, program.max_width, program.shape.n
    tape_size, width = program.tape_size, widest(schedule)
    none_J, none_data = np.empty((0, 0)), np.empty(0)

    def run(x, J, counts):
        B = np.empty((prep.p, n))
        _seeded_rows(table, params, max_width, tape_size, width, schedule, x, prep.colors, B,
                     counts)
        _unpack(prep.indptr, prep.indices, prep.colors, B, False, J if dense else none_J,
                none_data if dense else J, dense)

    return run


def bind_forward(program, chunk: int, dense: bool = True) -> Run:
    """Fill J (m, n), or with ``dense=False`` the CSR values of J over its pattern (nnz,),
    from ⌈p/chunk⌉ sweeps of ``chunk`` seed lanes: the sweeps of its plan."""
    return run_forward(program, sparse_forward_plan(program.shape, chunk, dense), dense)


def bind_reverse(program, chunk: int, dense: bool = True) -> Run:
    """Fill J (m, n), or the CSR values of J (nnz,), from one recording sweep and ⌈p/chunk⌉
    backward sweeps of ``chunk`` seed rows: the sweeps of its plan."""
    return run_reverse(program, sparse_reverse_plan(program.shape, chunk, dense), dense)


def run_forward(program, plan: Plan, dense: bool = True) -> Run:
    """The kernel running ``plan``'s sweeps: its tangent blocks compiled, once, into the
    colors each sweep seeds (``Plan.schedule``)."""
    return _run_columns(program, plan.schedule(), _Prepared(program.shape, "columns"), dense)


def run_reverse(program, plan: Plan, dense: bool = True) -> Run:
    """The kernel running ``plan``'s backward sweeps, compiled as ``run_forward``'s."""
    return _run_rows(program, plan.schedule(), _Prepared(program.shape, "rows"), dense)


FORWARD = Engine(
    "sparse-forward", "compressed forward mode: one tangent lane per color of J's columns "
    "(structurally orthogonal columns share a seed), J decompressed from J·S",
    bind=bind_forward, plan=sparse_forward_plan,
    lanes="n", default_chunk=default_lanes, options=("dense",), lane_total=column_colors,
)
REVERSE = Engine(
    "sparse-reverse", "compressed reverse mode: a tape, then one cotangent row per color of "
    "J's rows (rows sharing no column share a seed), J decompressed from S·J",
    bind=bind_reverse, plan=sparse_reverse_plan,
    lanes="m", default_chunk=default_lanes, options=("dense",), lane_total=row_colors,
)
