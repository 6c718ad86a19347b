"""One pass of a plan (``cost.work.Pass``) run alone at its sizes and timed: a layer's rule
on a block of lanes through the model's dispatch kernels, a block product through the same
BLAS call the engines make (``np.dot``), a copy, a fill, a fresh buffer's first touch.

    timer = PassTimer(chain.program)
    seconds = timer.seconds(plan.passes[3])     # one run, the median of samples ≥ 1 ms each

``explain`` reads every pass of a bound call this way, and calibration measures the
product, copy, fill and allocation curves with the same kernels, so the two time the same
code (the kernels that need no chain are ``machine.pass_kernels``). Each timed loop is a jitted kernel, so Python's per-call cost is not in the figure.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._jit import kernel
from ..machine.pass_kernels import (
    median_seconds,
    time_alloc,
    time_alloc_numpy,
    time_copy,
    time_fill,
    time_product,
)
from .work import Pass, explicit_pass, lane_pass, value_pass
from ..model.layers.dispatch import (
    P_OFF,
    S_OFF,
    layer_explicit,
    layer_record,
    layer_tangent,
    layer_value,
    layer_vjp,
)

# The rules' kernels take a stack of copies of the layer's parameters and read copy r mod
# their number at run r: in a call whose working set outgrows the caches, a layer's
# parameters come from memory every pass, and the copies make them do so here too.


@kernel
def _value(row, params_set, x, y, reps):
    for r in range(reps):
        layer_value(row, params_set[r % params_set.shape[0]], x, y)


@kernel
def _record(row, params_set, x, y, saved, reps):
    for r in range(reps):
        layer_record(row, params_set[r % params_set.shape[0]], x, y, saved)


@kernel
def _tangent(row, params_set, saved, X, Y, reps):
    for r in range(reps):
        layer_tangent(row, params_set[r % params_set.shape[0]], saved, X, Y)


@kernel
def _adjoint(row, params_set, saved, Yb, Xb, reps):
    for r in range(reps):
        layer_vjp(row, params_set[r % params_set.shape[0]], saved, Yb, Xb)


@kernel
def _explicit(row, params, saved, J, reps):
    for _ in range(reps):
        layer_explicit(row, params, saved, 0, 0, J)


class PassTimer:
    """Times the passes of plans on one chain's compiled ``program``: each distinct pass
    (its count aside) once, its figure kept."""

    def __init__(self, program, cold_bytes: float = 0.0):
        """``cold_bytes``: where a call's working set outgrows the caches, the size of the
        last cache (0: it fits): each layer rule and product then reads its matrix from
        copies enough to fill twice that, as the call reads it from memory."""
        self.program = program
        self.shape = program.shape
        self.cold_bytes = cold_bytes
        self._seen: dict[Pass, float] = {}
        self._tape = None

    def copies(self, nbytes: float) -> int:
        """How many copies of ``nbytes`` of operands a run rotates through."""
        if not self.cold_bytes:
            return 1
        return max(1, min(4096, int(np.ceil(2 * self.cold_bytes / max(nbytes, 1)))))

    def seconds(self, p: Pass) -> float:
        """Seconds of one run of ``p`` alone at its sizes."""
        key = replace(p, count=1)
        if key not in self._seen:
            self._seen[key] = self._time(key)
        return self._seen[key]

    def _time(self, p: Pass) -> float:
        if p.level == "operation":
            # one layer's share of a sweep over the whole tape: the operation-level kernels
            # have no entry point for one layer's operations, so none is timed alone
            return math.nan
        if p.rule in ("value", "record", "tangent", "adjoint"):
            return self._rule(p, self.layer_of(p))
        if p.rule == "explicit":
            return self._explicit(p)
        if p.rule == "product":
            return time_product(p.dims, self.copies(p.bytes))
        if p.rule == "copy":
            return time_copy(p.bytes // 16)
        if p.rule == "fill":
            return time_fill(p.bytes // 8)
        if p.rule == "alloc":
            return time_alloc_numpy(p.bytes) if p.allocator == "numpy" else time_alloc(p.bytes)
        raise ValueError(f"a pass of rule {p.rule!r}: not one a plan runs")

    def layer_of(self, p: Pass) -> int:
        """The layer whose rule ``p`` is: the first whose pass of that rule and lanes is
        ``p`` (layers alike run alike)."""
        shape = self.shape
        named = [k for k in range(shape.depth) if shape.layers[k].name == p.layer]
        for k in named:
            if p.rule in ("value", "record"):
                mine = value_pass(shape, k, record=p.rule == "record")
            else:
                mine = lane_pass(shape, k, p.lanes, p.rule)
            if mine == replace(p, count=1):
                return k
        # the operation-level modes' passes (cost.operations) count per operation: the layer
        # of that name whose own pass moves the nearest bytes runs its rule in their place
        if named:
            def distance(k):
                mine = value_pass(shape, k) if p.rule in ("value", "record") else \
                    lane_pass(shape, k, p.lanes, p.rule)
                return abs(mine.bytes - p.bytes)

            return min(named, key=distance)
        raise ValueError(f"no layer of this chain runs the pass {p}")

    def _slot(self, k: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Layer k's tape slot, recorded at x (the lane rules read it)."""
        table, params = self.program.table, self.program.params
        if self._tape is None:
            self._tape = np.zeros(max(self.program.tape_size, 1))
        saved = self._tape[table[k, S_OFF]:]
        _record(table[k], params[None, :], x, y, saved, 1)
        return saved

    def _rule(self, p: Pass, k: int) -> float:
        table, params = self.program.table, self.program.params
        w_in, w_out = self.shape.widths[k], self.shape.widths[k + 1]
        rng = np.random.default_rng(k)
        x, y = 0.5 * rng.standard_normal(w_in), np.empty(w_out)
        saved = self._slot(k, x, y)
        # the layer's own parameters, stacked (row[P_OFF] = 0: each copy starts at 0)
        row, size = table[k].copy(), max(self.shape.layers[k].parameters(w_in, w_out), 1)
        own = params[row[P_OFF]:row[P_OFF] + size]
        params = np.empty((self.copies(p.bytes), size))
        params[:, :own.size] = own
        row[P_OFF] = 0
        if p.rule == "value":
            return median_seconds(lambda reps: _value(row, params, x, y, reps))
        if p.rule == "record":
            return median_seconds(lambda reps: _record(row, params, x, y, saved, reps))
        c = p.lanes
        if p.rule == "tangent":
            X, Y = rng.standard_normal((w_in, c)), np.empty((w_out, c))
            return median_seconds(lambda reps: _tangent(row, params, saved, X, Y, reps))
        Yb, Xb = rng.standard_normal((c, w_out)), np.empty((c, w_in))
        return median_seconds(lambda reps: _adjoint(row, params, saved, Yb, Xb, reps))

    def _explicit(self, p: Pass) -> float:
        """A layer's Jacobian block written: forward mode's first columns of layer 1, a
        backward sweep's first rows of the last layer, a bracketing step's whole block;
        a block no layer of that name writes is timed as the fill of its entries."""
        shape, entries = self.shape, p.madds
        for k in range(shape.depth):
            w_in, w_out = shape.widths[k], shape.widths[k + 1]
            if shape.layers[k].name != p.layer or explicit_pass(entries, layer=p.layer) != \
                    replace(p, count=1):
                continue
            if k == 0 and entries % w_out == 0 and entries // w_out <= w_in:
                J = np.empty((w_out, entries // w_out))  # columns
            elif entries % w_in == 0 and entries // w_in <= w_out:
                J = np.empty((entries // w_in, w_in))  # rows
            else:
                continue
            x, y = 0.5 * np.random.default_rng(k).standard_normal(w_in), np.empty(w_out)
            saved = self._slot(k, x, y)
            row, params = self.program.table[k], self.program.params
            return median_seconds(lambda reps: _explicit(row, params, saved, J, reps))
        return time_fill(entries)
