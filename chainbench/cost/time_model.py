"""Predicted seconds of a Jacobian on this machine, from its plan and the machine profile.

Each pass of the plan (``work.Pass``) is priced by what bounds it: a matrix product of several lanes by
its multiply-adds at the rate measured for its shape (its matrix's side and its lanes), or
by the bytes it moves at
the streaming rate of the level the whole working set lives in, whichever is slower; a
matrix-vector product or a streaming pass by its bytes alone (the profile's streaming rate
is that of y = W x); a block copy, a fill and a fresh buffer (its pages faulted in when
first written) by their bytes at the streaming rate. Fixed costs come from ``Overheads``: chainbench's own per-call and
per-pass costs, measured on tiny chains (``harness.overheads``) and cached beside the
machine profile; until they are measured, the profile's bare call overhead stands in. Every
sweep re-reads every layer's parameters, so the level is that of the parameters and the
buffers together.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .predictions import F64, parameter_floats
from .work import Pass, Plan

if TYPE_CHECKING:
    from ..machine.profile import MachineProfile

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


@dataclass(frozen=True)
class Overheads:
    """What a Jacobian call costs beyond its passes' work: ``call_s`` once per call (the
    Python API, the kernel call, allocating J), ``pass_s`` per layer pass (dispatch and loop
    bookkeeping); ``measured``: False for the stand-in taken from the machine profile.
    ``madd_s``: (layer name, seconds per multiply-add of its value, record, tangent and
    adjoint rules) for the layers without a parameter matrix, whose rules may cost more
    than the bytes they move (an activation's libm call, a convolution's short loops):
    measured, not counted."""

    call_s: float
    pass_s: float
    measured: bool = True
    madd_s: tuple[tuple[str, float, float, float, float], ...] = ()

    def per_madd(self, layer: str, rule: str) -> float:
        """Seconds per multiply-add of ``layer``'s 'value', 'record', 'tangent' or 'adjoint'
        rule (0: not measured)."""
        for name, *costs in self.madd_s:
            if name == layer:
                return costs[RULES.index(rule)]
        return 0.0


#: The rules ``Overheads.madd_s`` prices, in its order.
RULES = ("value", "record", "tangent", "adjoint")


def overheads_path(profile: MachineProfile) -> Path:
    """overheads-<machine digest>.json beside the profile cache."""
    from ..machine.profile import cache_path

    path = cache_path(profile.key)
    return path.with_name(path.name.replace("profile-", "overheads-", 1))


def _code() -> str:
    from .._cache import fingerprint

    return fingerprint()


#: Overheads read from (or saved to) their cache file in this process, by its path: every
#: prediction prices them, and reading the file each time would be I/O per prediction.
_READ: dict[Path, Overheads] = {}


def cached_overheads(profile: MachineProfile) -> Overheads:
    """The overheads measured on this machine for this code (``profile.extra`` may give them,
    as a synthetic profile does), else the profile's call overhead and no per-pass cost."""
    given = profile.extra.get("overheads")
    if given:
        return _overheads_of(given)
    path = overheads_path(profile)
    if path not in _READ and path not in _DAMAGED:
        try:
            doc = json.loads(path.read_text())
            if doc.get("code") == _code():
                _READ[path] = _overheads_of(doc)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            # measured again where a run or `predict` needs them (harness.ensure_overheads)
            _DAMAGED.add(path)
            print(f"chainbench: warning: {path}: damaged overheads cache "
                  f"({str(err).splitlines()[0] if str(err) else type(err).__name__}); "
                  "they are measured again", file=sys.stderr)
    return _READ.get(path) or Overheads(profile.call_overhead_s, 0.0, measured=False)


#: Overheads files found damaged in this process: said once, not read again.
_DAMAGED: set[Path] = set()


def _overheads_of(doc: dict) -> Overheads:
    """The overheads a cache file (or a profile's ``extra``) holds; a ValueError where one
    is not a finite number ≥ 0."""
    out = Overheads(float(doc["call_s"]), float(doc["pass_s"]),
                    madd_s=tuple((str(n), *map(float, costs))
                                 for n, *costs in doc.get("madd_s", ())))
    values = (out.call_s, out.pass_s, *(c for _, *costs in out.madd_s for c in costs))
    if any(not (math.isfinite(v) and v >= 0) for v in values) or \
            any(len(costs) != len(RULES) for _, *costs in out.madd_s):
        raise ValueError("a cost that is not a finite number ≥ 0")
    return out


def save_overheads(profile: MachineProfile, overheads: Overheads) -> Path:
    path = overheads_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**asdict(overheads), "code": _code()}
    tmp = path.with_suffix(f".tmp{id(doc)}")
    tmp.write_text(json.dumps(doc) + "\n")
    tmp.replace(path)
    _READ[path] = overheads
    _DAMAGED.discard(path)
    return path


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
    (k0, k1), tk = _bracket(sorted({kk for kk, _ in rate}), k)
    (c0, c1), tc = _bracket(sorted({cc for _, cc in rate}), c)

    def at(kk, cc):
        return math.log(rate[kk, cc])

    low = at(k0, c0) + tc * (at(k0, c1) - at(k0, c0))
    high = at(k1, c0) + tc * (at(k1, c1) - at(k1, c0))
    return math.exp(low + tk * (high - low))


def _bracket(points: list[int], x: float) -> tuple[tuple[int, int], float]:
    """The neighbours of ``x`` among sorted ``points`` and its log-position between them,
    held at the ends."""
    x = min(max(x, points[0]), points[-1])
    for a, b in zip(points, points[1:]):
        if x <= b:
            return (a, b), (math.log(x) - math.log(a)) / (math.log(b) - math.log(a))
    return (points[-1], points[-1]), 0.0


def _priced(p: Pass, profile, bandwidth: float,
            overheads: Overheads | None = None) -> tuple[float, str]:
    """One run of pass ``p`` at ``bandwidth``: its seconds and 'compute' or 'memory'."""
    # a product streams its matrix no faster than the profile measured for a matrix of its
    # size alone: small ones pay the BLAS call, whatever level they live in
    rate = min(bandwidth, profile.bandwidth_at(p.bytes)) if p.product else bandwidth
    moving = p.bytes / rate
    computing = 0.0
    if p.product and min(p.dims) > 1:
        computing = p.madds / product_rate(profile, p.dims)
    elif p.per_madd and overheads is not None:
        computing = p.madds * overheads.per_madd(p.layer, p.rule)
    return (computing, "compute") if computing >= moving else (moving, "memory")


def pass_seconds(p: Pass, profile, bandwidth: float,
                 overheads: Overheads | None = None) -> float:
    """Seconds of all ``p.count`` runs of pass ``p`` at ``bandwidth``, fixed costs aside
    (``overheads`` gives the rules' cost per multiply-add where it is measured)."""
    return p.count * _priced(p, profile, bandwidth, overheads)[0]


def price(passes, profile, working_set_bytes: int,
          overheads: Overheads | None = None) -> TimePrediction:
    """The seconds ``passes`` take on ``profile``'s machine with that working set, with
    ``overheads`` (default: ``cached_overheads(profile)``)."""
    overheads = cached_overheads(profile) if overheads is None else overheads
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
    shape = plan.shape
    working = F64 * (parameter_floats(shape) + shape.m * shape.n) + plan.bytes_held
    return price(plan.passes, profile, working)
