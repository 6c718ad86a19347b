"""A chain in the kernels' terms: an int64 table of layers and one float64 parameter
buffer, and the value sweep f(x) that every engine starts from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .._jit import kernel
from .counters import LAYER_STEPS, MADDS_VALUE, N_COUNTERS
from .layers.base import PROGRAM_COLUMNS
from .layers.dispatch import ARG, OP, P_OFF, S_OFF, W_IN, W_OUT, layer_value

if TYPE_CHECKING:
    from .shape import ChainShape


@dataclass(frozen=True)
class Program:
    """A chain in the kernels' terms.

    table   int64 (K, 6): per layer op code, input width, output width, offset of its
            parameters in ``params``, offset of its slot on the tape, its structural
            argument (``layers.base.ARG``)
    params  float64, every layer's parameters back to back
    tape_size  float64 entries a reverse-mode tape needs
    max_width  the widest vector in the chain (input included)
    shape      the layer kinds and widths (for planners)
    """

    table: np.ndarray
    params: np.ndarray
    tape_size: int
    max_width: int
    shape: ChainShape


def compile_program(layers, widths, shape: ChainShape) -> Program:
    """The program of layers applied to widths (n, n_1, ..., m)."""
    K = len(layers)
    table = np.zeros((K, PROGRAM_COLUMNS), dtype=np.int64)
    chunks, p_off, s_off = [], 0, 0
    for k, layer in enumerate(layers):
        w_in, w_out = widths[k], widths[k + 1]
        p = layer.params
        table[k, OP], table[k, W_IN], table[k, W_OUT] = layer.op, w_in, w_out
        table[k, P_OFF], table[k, S_OFF], table[k, ARG] = p_off, s_off, layer.arg
        chunks.append((p_off, p))
        p_off += -(-p.size // ALIGN_FLOATS) * ALIGN_FLOATS  # next layer starts aligned
        saved = layer.cost(w_in, w_out).saved
        # engines size per-layer scratch by the output width (forward mode parks layer
        # 0's saved values in a value buffer): a layer saving more would overrun it
        assert saved <= w_out, f"{layer!r} saves {saved} floats, more than its {w_out} outputs"
        s_off += saved
    params = aligned_zeros(max(p_off, 1))
    for off, p in chunks:
        params[off : off + p.size] = p
    return Program(table, params, s_off, max(widths), shape)


#: Each layer's parameters start on a 64-byte boundary (8 floats). Vector loads that straddle
#: cache lines made a small gradient 15 % slower, and which it got depended on where malloc
#: happened to put the buffer: one of two speeds per process.
ALIGN_FLOATS = 8


def aligned_zeros(size: int) -> np.ndarray:
    """A float64 zero vector whose first entry sits on a 64-byte boundary."""
    raw = np.zeros(size + ALIGN_FLOATS)
    skip = (-raw.ctypes.data % (8 * ALIGN_FLOATS)) // 8
    return raw[skip : skip + size]


@kernel
def advance(table, params, lo, hi, x, vals, counts):
    """Values through layers lo..hi-1 (no tangents, no tape); returns a view of the
    output. The value sweep every engine shares."""
    v = x
    for k in range(lo, hi):
        y = vals[k % 2][: table[k, W_OUT]]
        counts[MADDS_VALUE] += layer_value(table[k], params, v, y)
        v = y
    counts[LAYER_STEPS] += hi - lo
    return v


@kernel
def _evaluate(table, params, max_width, x):
    """f(x) by a plain value sweep."""
    vals = np.empty((2, max_width))
    counts = np.zeros(N_COUNTERS, dtype=np.int64)
    return advance(table, params, 0, table.shape[0], x, vals, counts).copy()


def bind_evaluate(program):
    """``evaluate`` with the chain bound: a callable x -> f(x)."""
    return partial(_evaluate, program.table, program.params, program.max_width)
