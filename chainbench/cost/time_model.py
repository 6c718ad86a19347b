"""Predicted seconds of a Jacobian on this machine, from its plan and the machine profile.

Each pass of the plan (``work.Pass``) is priced by what bounds it: a matrix product of several lanes by
its multiply-adds at the rate measured for its shape (its matrix's side and its lanes), or
by the bytes it moves at
the streaming rate of the level the whole working set lives in, whichever is slower; a
matrix-vector product or a streaming pass by its bytes alone (the profile's streaming rate
is that of y = W x); a block copy, a fill and a fresh buffer (its pages faulted in when
first written) by their bytes at the streaming rate. Fixed costs come from the profile's
``own_costs``: chainbench's own per-call and per-pass costs, measured on tiny chains
(``machine.own_costs``) and kept in the profile; until they are measured, the profile's
bare call overhead stands in. Every sweep re-reads every layer's parameters, so the level
is that of the parameters and the buffers together. This module only prices: the profile
and its cache are ``machine``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..machine.curves import bracket
from ..machine.overheads import OPERATIONS
from .predictions import F64, parameter_floats
from .work import Pass, Plan

if TYPE_CHECKING:
    from ..machine.overheads import Overheads

#: GEMM rates below this inner size are read at it (the profile measures k ≥ 16).
SMALLEST_K = 16


@dataclass(frozen=True)
class TimePrediction:
    """Predicted seconds of one Jacobian call, split by what bounds each pass.

    compute_s    passes bound by the GEMM rate
    memory_s     passes bound by the bandwidth of ``level``
    overhead_s   the per-call overhead
    level        where the working set lives (``MachineProfile.regime``)
    """

    seconds: float
    compute_s: float
    memory_s: float
    overhead_s: float
    level: str
    working_set_bytes: int

    @property
    def bound(self) -> str:
        """'compute', 'memory' or 'overhead': what most of the time goes to."""
        parts = {"compute": self.compute_s, "memory": self.memory_s, "overhead": self.overhead_s}
        return max(parts, key=parts.get)

    def describe(self) -> str:
        if self.bound == "memory":
            return f"memory-bound in {self.level}"
        if self.bound == "compute":
            return "compute-bound"
        return "overhead-bound (per-call cost)"


def gemm_rate(profile, k: int) -> float:
    """Multiply-adds per second of a product with inner size ``k``, interpolated log-log
    in the profile's GEMM curve and held at its ends."""
    points = sorted(profile.gemm)
    x = math.log(min(max(k, points[0][0], SMALLEST_K), points[-1][0]))
    for (k0, r0), (k1, r1) in zip(points, points[1:]):
        if x <= math.log(k1):
            t = (x - math.log(k0)) / (math.log(k1) - math.log(k0))
            return math.exp(math.log(r0) + t * (math.log(r1) - math.log(r0)))
    return points[-1][1]


def product_rate(profile, dims: tuple[int, int, int]) -> float:
    """Multiply-adds per second of an (M×K) @ (K×N) product, ``dims`` = (M, K, N): read in
    the profile's grid for its smallest side at c = that side and k = the middle one,
    interpolated log-log and held at the grid's edges; a profile without that grid (schema
    1) prices it at the k×k rate of k = its smallest side."""
    c = min(dims)
    if not profile.lanes:
        return gemm_rate(profile, c)
    side = "MKN"[dims.index(c)]
    k = sorted(dims)[1]
    rate = {(kk, cc): r for s, kk, cc, r in profile.lanes if s == side}
    (k0, k1), tk = bracket(sorted({kk for kk, _ in rate}), k)
    (c0, c1), tc = bracket(sorted({cc for _, cc in rate}), c)

    def at(kk, cc):
        return math.log(rate[kk, cc])

    low = at(k0, c0) + tc * (at(k0, c1) - at(k0, c0))
    high = at(k1, c0) + tc * (at(k1, c1) - at(k1, c0))
    return math.exp(low + tk * (high - low))


def _curve_kind(p: Pass) -> tuple[str, float, int] | None:
    """(curve, size in bytes, lanes) the profile's pass curves price ``p`` by: a product
    with its output's columns fewest as 'tangent' (W @ X), with its rows fewest as
    'adjoint' (Y @ W), at the bytes of W; a copy at its block's bytes, a fill and a fresh
    buffer at theirs. None for the rest (a product of a small inner size: the lanes grid)."""
    if p.product:
        m, k, n = p.dims
        if n <= m and n <= k:
            return "tangent", F64 * m * k, n
        if m <= k:
            return "adjoint", F64 * k * n, m
        return None
    if p.rule == "copy":
        return "copy", p.bytes / 2, 0
    if p.rule == "alloc" and p.allocator == "numpy":
        return "alloc-numpy", p.bytes, 0
    if p.rule in ("fill", "alloc"):
        return p.rule, p.bytes, 0
    return None


def _from_curve(p: Pass, profile, bandwidth: float) -> tuple[float, str] | None:
    """One run of ``p`` priced by the profile's pass curves (None: no curve prices it): the
    rate measured for its kind at its size, or its bytes at the call's ``bandwidth`` where
    that is slower (a fresh buffer: its page faults alone); bound by what the roofline
    says of its multiply-adds per byte."""
    found = _curve_kind(p)
    if found is None or not profile.curves:
        return None
    kind, size, lanes = found
    rate = profile.curve_rate(kind, size, lanes)
    if rate is None:
        return None
    if p.product:
        seconds = max(p.madds / rate, p.bytes / bandwidth)
        roof = p.madds / profile.peak_madds_per_s >= p.bytes / profile.bandwidth_at(size)
        return seconds, "compute" if roof else "memory"
    seconds = p.bytes / rate if kind.startswith("alloc") else max(p.bytes / rate, p.bytes / bandwidth)
    return seconds, "memory"


def _priced(p: Pass, profile, bandwidth: float,
            overheads: Overheads | None = None) -> tuple[float, str]:
    """One run of pass ``p`` at ``bandwidth``: its seconds and 'compute' or 'memory'."""
    curve = _from_curve(p, profile, bandwidth)
    if curve is not None:
        return curve
    # a product streams its matrix no faster than the profile measured for a matrix of its
    # size alone: small ones pay the BLAS call, whatever level they live in
    rate = min(bandwidth, profile.bandwidth_at(p.bytes)) if p.product else bandwidth
    moving = p.bytes / rate
    if p.touched:  # slots and lanes inside a block that stays in its own cache level
        moving += p.touched / profile.bandwidth_at(p.block)
    computing = 0.0
    if p.product and min(p.dims) > 1:
        computing = p.madds / product_rate(profile, p.dims)
    elif p.per_madd and overheads is not None:
        name = OPERATIONS if p.level == "operation" else p.layer
        computing = p.madds * overheads.per_madd(name, p.rule)
        if p.level == "operation" and p.rule == "adjoint" and p.lanes > 1:
            # a replay reads each entry once for all its rows: the first row pays the
            # measured cost of a replayed partial, each further row a lane's multiply-add
            # (measured on tangents, where the entry's loads are likewise paid once)
            first = p.madds / p.lanes
            computing = first * overheads.per_madd(name, "adjoint") + \
                (p.madds - first) * overheads.per_madd(name, "tangent")
    return (computing, "compute") if computing >= moving else (moving, "memory")


def pass_seconds(p: Pass, profile, bandwidth: float,
                 overheads: Overheads | None = None) -> float:
    """Seconds of all ``p.count`` runs of pass ``p`` at ``bandwidth``, fixed costs aside
    (``overheads`` gives the rules' cost per multiply-add where it is measured)."""
    return p.count * _priced(p, profile, bandwidth, overheads)[0]


def pass_prices(plan: Plan, profile, overheads: Overheads | None = None
                ) -> list[tuple[float, str]]:
    """(seconds of one run, 'compute' or 'memory') of each pass of ``plan``, as ``price_plan``
    prices it at the call's working set, the per-pass fixed cost included (allocations pay
    none): the predicted column of ``explain``. They sum, times their counts and with the
    per-call cost, to ``price_plan(plan).seconds``."""
    overheads = profile.own_costs if overheads is None else overheads
    bandwidth = profile.bandwidth_at(working_set(plan))
    out = []
    for p in plan.passes:
        seconds, bound = _priced(p, profile, bandwidth, overheads)
        out.append((seconds + (overheads.pass_s if p.rule != "alloc" else 0.0), bound))
    return out


def working_set(plan: Plan) -> int:
    """Bytes a call running ``plan`` touches: the chain's parameters, the buffers the plan
    holds and J."""
    shape = plan.shape
    return F64 * (parameter_floats(shape) + shape.m * shape.n) + plan.bytes_held


def price(passes, profile, working_set_bytes: int,
          overheads: Overheads | None = None) -> TimePrediction:
    """The seconds ``passes`` take on ``profile``'s machine with that working set, with
    ``overheads`` (default: the profile's ``own_costs``)."""
    overheads = profile.own_costs if overheads is None else overheads
    bandwidth = profile.bandwidth_at(working_set_bytes)
    compute = memory = 0.0
    runs = 0
    for p in passes:
        runs += p.count if p.rule != "alloc" else 0
        seconds, bound = _priced(p, profile, bandwidth, overheads)
        if bound == "compute":
            compute += p.count * seconds
        else:
            memory += p.count * seconds
    overhead = overheads.call_s + overheads.pass_s * runs
    return TimePrediction(compute + memory + overhead, compute, memory, overhead,
                          profile.regime(working_set_bytes), int(working_set_bytes))


def price_plan(plan: Plan, profile) -> TimePrediction:
    """One Jacobian call running ``plan``: its working set is the chain's parameters, the
    buffers the plan holds and J."""
    return price(plan.passes, profile, working_set(plan))
