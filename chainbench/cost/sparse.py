"""The plans of the compressed (sparse) modes, from the shape alone.

sparse-forward with p column colors and chunk c: ⌈p/c⌉ sweeps, each evaluating the chain
and pushing c seed lanes through every layer (a seed is the sum of a color's basis vectors,
so unlike forward mode no sweep starts from layer 1's columns): p·Σ T_k tangent
multiply-adds. sparse-reverse with p row colors: one recording sweep, ⌈p/c⌉ backward sweeps,
p·Σ A_k adjoint multiply-adds. Held: the value and lane buffers of the dense modes, the
seed block (n × c forward, c × m reverse) and the compressed Jacobian (m × p, p × n). The
colors come from ``coloring.chain_coloring``, the same the engines use.
"""

from __future__ import annotations

from ..model.chain import shape_of
from ..model.shape import ChainShape
from ..model.sparsity import is_full, nonzeros
from .coloring import chain_coloring
from .predictions import F64, default_lanes
from .sweeps import saved_floats
from .work import (
    Plan,
    alloc_pass,
    blocks,
    copy_pass,
    fill_pass,
    lane_blocks,
    lane_pass,
    value_pass,
)


def colors(shape: ChainShape, side: str) -> int:
    """Colors of J's columns ('columns', sparse-forward) or rows ('rows', sparse-reverse)."""
    if is_full(shape):  # one color a lane, counted without coloring (n may be 2³¹)
        return shape.n if side == "columns" else shape.m
    return chain_coloring(shape, side).count


def column_colors(shape: ChainShape) -> int:
    """The lanes sparse-forward moves: its chunk counts these."""
    return colors(shape, "columns")


def row_colors(shape: ChainShape) -> int:
    """The rows sparse-reverse pulls: its chunk counts these."""
    return colors(shape, "rows")


def _decompress(shape: ChainShape, dense: bool) -> list:
    """Each structural nonzero read from the compressed block into J; a dense J is zeroed
    first."""
    out = [copy_pass(nonzeros(shape))]
    return [fill_pass(shape.m * shape.n), *out] if dense else out


def sparse_forward_plan(chain, chunk: int | None = None, dense: bool = True) -> Plan:
    """Per sweep: the seed block written, values and c lanes through every layer, the lanes
    copied into J·S; then J decompressed."""
    shape = shape_of(chain)
    w, n, m = max(shape.widths), shape.n, shape.m
    p = column_colors(shape)
    c = chunk or default_lanes(w, p)
    out = [alloc_pass(F64 * (2 * w + 2 * w * c + n * c + m * p))]  # values, lanes, seed, J·S
    for lanes, sweeps in blocks(p, c):
        out.append(fill_pass(n * lanes, sweeps))
        for k in range(shape.depth):
            out += [value_pass(shape, k, sweeps), lane_pass(shape, k, lanes, "tangent", sweeps)]
        out.append(copy_pass(m * lanes, sweeps))
    out += _decompress(shape, dense)
    return Plan(mode="sparse-forward", chunk=c, passes=tuple(out), sweeps_forward=-(-p // c),
                shape=shape, lane_blocks=lane_blocks(p, c))


def sparse_reverse_plan(chain, chunk: int | None = None, dense: bool = True) -> Plan:
    """One recording sweep; per backward sweep the seed rows written, c rows pulled through
    every layer and copied into S·J; then J decompressed."""
    shape = shape_of(chain)
    w, n, m = max(shape.widths), shape.n, shape.m
    p = row_colors(shape)
    c = chunk or default_lanes(w, p)
    out = [alloc_pass(F64 * saved_floats(shape), "tape"),
           alloc_pass(F64 * (2 * w + 2 * w * c + c * m + p * n))]  # values, rows, seed, S·J
    out += [value_pass(shape, k, record=True) for k in range(shape.depth)]
    for rows, sweeps in blocks(p, c):
        out.append(fill_pass(rows * m, sweeps))
        out += [lane_pass(shape, k, rows, "adjoint", sweeps) for k in range(shape.depth)]
        out.append(copy_pass(rows * n, sweeps))
    out += _decompress(shape, dense)
    return Plan(mode="sparse-reverse", chunk=c, passes=tuple(out), sweeps_forward=1,
                sweeps_backward=-(-p // c), shape=shape, lane_blocks=lane_blocks(p, c))


def sparse_mirror_plan(chain, chunk: int | None = None, *, mode: str, algorithm: str) -> Plan:
    """A peer that runs compressed sweeps (asdex): the plan of chainbench's own sparse mode
    of that ``algorithm``, all colors in one sweep."""
    shape = shape_of(chain)
    if algorithm == "forward":
        return sparse_forward_plan(shape, column_colors(shape)).renamed(mode)
    return sparse_reverse_plan(shape, row_colors(shape)).renamed(mode)
