"""The cost model of the compressed (sparse) modes: counters and passes, from the shape alone.

sparse-forward with p column colors and chunk c: ⌈p/c⌉ sweeps, each evaluating the chain
and pushing c seed lanes through every layer (a seed is the sum of a color's basis vectors,
so unlike forward mode no sweep starts from layer 1's columns): p·Σ T_k tangent
multiply-adds. sparse-reverse with p row colors: one recording sweep, ⌈p/c⌉ backward sweeps,
p·Σ A_k adjoint multiply-adds. Work: the value and lane buffers of the dense modes, the
seed block (n × c forward, c × m reverse) and the compressed Jacobian (m × p, p × n). The
colors come from ``coloring.chain_coloring``, the same the engines use.
"""

from __future__ import annotations

from dataclasses import replace
from math import ceil

from ..model.shape import ChainShape
from ..model.sparsity import is_full, nonzeros
from .coloring import chain_coloring
from .passes import F64, Pass, copy_pass, lane_pass, value_pass
from .predictions import Prediction, _costs, _shape, default_lanes


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


def predict_sparse_forward(chain, chunk: int | None = None, dense: bool = True) -> Prediction:
    """Compressed forward mode: ⌈p/c⌉ sweeps of c seed lanes, p·Σ T_k tangent multiply-adds."""
    shape = _shape(chain)
    costs, w, n, m = _costs(shape), max(shape.widths), shape.n, shape.m
    p = column_colors(shape)
    c = chunk or default_lanes(w, p)
    sweeps = ceil(p / c)
    return Prediction(
        "sparse-forward", c, sweeps, 0,
        madds_value=sweeps * sum(k.value for k in costs),
        madds_tangent=p * sum(k.tangent for k in costs),
        madds_adjoint=0,
        bytes_tape=0,
        bytes_work=F64 * (2 * w + 2 * w * c + n * c + m * p),  # values, lanes, seed, J·S
        layer_steps=sweeps * shape.depth,
    )


def predict_sparse_reverse(chain, chunk: int | None = None, dense: bool = True) -> Prediction:
    """Compressed reverse mode: one recording sweep, ⌈p/c⌉ backward sweeps of c seed rows,
    p·Σ A_k adjoint multiply-adds."""
    shape = _shape(chain)
    costs, w, n, m = _costs(shape), max(shape.widths), shape.n, shape.m
    p = row_colors(shape)
    c = chunk or default_lanes(w, p)
    return Prediction(
        "sparse-reverse", c, 1, ceil(p / c),
        madds_value=sum(k.value for k in costs),
        madds_tangent=0,
        madds_adjoint=p * sum(k.adjoint for k in costs),
        bytes_tape=F64 * sum(k.saved for k in costs),
        bytes_work=F64 * (2 * w + 2 * w * c + c * m + p * n),  # values, rows, seed, S·J
        layer_steps=shape.depth,
    )


def predict_sparse_mirror(chain, chunk: int | None = None, *, mode: str,
                          algorithm: str) -> Prediction:
    """A peer that runs compressed sweeps (asdex): the work of chainbench's own sparse mode
    of that ``algorithm``, all colors in one sweep. Peers count nothing: this is what the
    sweep's guards plan with."""
    shape = _shape(chain)
    if algorithm == "forward":
        return replace(predict_sparse_forward(shape, column_colors(shape)), mode=mode)
    return replace(predict_sparse_reverse(shape, row_colors(shape)), mode=mode)


def sparse_mirror_passes(shape: ChainShape, chunk: int | None = None, *,
                         algorithm: str) -> list[Pass]:
    """A compressed peer's passes: chainbench's sparse mode's, all colors in one sweep."""
    if algorithm == "forward":
        return sparse_forward_passes(shape, column_colors(shape))
    return sparse_reverse_passes(shape, row_colors(shape))


def _blocks(total: int, chunk: int) -> list[tuple[int, int]]:
    full, rest = divmod(total, chunk)
    return [(chunk, full)] * bool(full) + ([(rest, 1)] if rest else [])


def _fill_pass(entries: int, count: int = 1) -> Pass:
    """Entries set to a constant (a seed block's zeros and ones, a dense J's zeros): bytes
    written, no multiply-adds, as the engines count."""
    return Pass(0, F64 * entries, 1, False, count)


def _decompress(shape: ChainShape, dense: bool) -> list[Pass]:
    """Each structural nonzero read from the compressed block into J; a dense J is zeroed
    first."""
    out = [copy_pass(nonzeros(shape))]
    return [_fill_pass(shape.m * shape.n), *out] if dense else out


def sparse_forward_passes(shape: ChainShape, chunk: int | None = None,
                          dense: bool = True) -> list[Pass]:
    """Per sweep: the seed block written, values and c lanes through every layer, the lanes
    copied into J·S; then J decompressed."""
    p = column_colors(shape)
    c = chunk or default_lanes(max(shape.widths), p)
    out = []
    for lanes, sweeps in _blocks(p, c):
        out.append(_fill_pass(shape.n * lanes, sweeps))
        for k in range(shape.depth):
            out += [value_pass(shape, k, sweeps), lane_pass(shape, k, lanes, "tangent", sweeps)]
        out.append(copy_pass(shape.m * lanes, sweeps))
    return out + _decompress(shape, dense)


def sparse_reverse_passes(shape: ChainShape, chunk: int | None = None,
                          dense: bool = True) -> list[Pass]:
    """One recording sweep; per backward sweep the seed rows written, c rows pulled through
    every layer and copied into S·J; then J decompressed."""
    p = row_colors(shape)
    c = chunk or default_lanes(max(shape.widths), p)
    out = [value_pass(shape, k, record=True) for k in range(shape.depth)]
    for rows, sweeps in _blocks(p, c):
        out.append(_fill_pass(rows * shape.m, sweeps))
        out += [lane_pass(shape, k, rows, "adjoint", sweeps) for k in range(shape.depth)]
        out.append(copy_pass(rows * shape.n, sweeps))
    return out + _decompress(shape, dense)
