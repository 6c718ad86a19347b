"""How far a predicted time may be trusted: the kind of pass a plan's time goes to, and the
error the time model was measured to make on this machine for calls of that kind
(``Overheads.errors``, measured by ``machine.prediction_errors``).

A prediction is a band, seconds × e^(±band): a choice between two plans is only as sure as
the wider of their bands, so ``choice`` leaves a safe default only for a predicted gain
larger than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .time_model import pass_prices
from .work import Plan

#: The kinds of pass a plan's time can go to, in the order they are reported.
KINDS = ("gemm", "skinny", "stream", "rule", "copy", "overhead")
#: A product is 'skinny' (BLAS far below its square rate, priced from a sparse grid) below
#: this many lanes, 'gemm' from it on; with one lane it streams its matrix ('stream').
SKINNY_BELOW = 16
#: The band of a kind this machine has no measurement for: about the typical error of the
#: time model before it measured its own (0.24 median |ln| over the shipped experiments on
#: a CPU none of them came from), rounded up.
UNMEASURED = 0.3
#: No band is narrower than run-to-run timing noise on a shared VM.
FLOOR = 0.05
#: A kind counts towards a plan's band when it holds at least this share of its time.
SHARE = 0.2


def pass_kind(p) -> str:
    """What bounds one pass: a product of many lanes ('gemm'), of a few ('skinny'), a
    matrix or vector streamed ('stream'), a rule priced per multiply-add ('rule'), or a
    block copied, filled or allocated ('copy')."""
    if p.rule in ("copy", "fill", "alloc"):
        return "copy"
    if p.product:  # a dense layer's value or record pass is a matrix-vector product
        lanes = min(p.dims)
        return "gemm" if lanes >= SKINNY_BELOW else "skinny" if lanes > 1 else "stream"
    return "rule" if p.per_madd else "stream"


def shares(plan: Plan, profile) -> dict[str, float]:
    """Predicted seconds of ``plan`` by kind of pass (``time_model.pass_prices``), the fixed
    per-call and per-pass costs as 'overhead'."""
    out = dict.fromkeys(KINDS, 0.0)
    pass_s = profile.own_costs.pass_s
    for p, (seconds, _) in zip(plan.passes, pass_prices(plan, profile)):
        fixed = pass_s if p.rule != "alloc" else 0.0
        out[pass_kind(p)] += p.count * (seconds - fixed)
        out["overhead"] += p.count * fixed
    out["overhead"] += profile.own_costs.call_s
    return out


def dominant_kind(plan: Plan, profile, by_kind: dict | None = None) -> str:
    """The kind of pass most of ``plan``'s predicted time goes to (``by_kind``: its
    ``shares``, where already computed)."""
    by_kind = shares(plan, profile) if by_kind is None else by_kind
    return max(by_kind, key=by_kind.get)


def kind_band(kind: str, profile) -> float:
    """The measured band of ``kind`` on ``profile``'s machine; unmeasured, the widest band
    measured there, or UNMEASURED where none was."""
    errors = profile.own_costs.errors
    band = profile.own_costs.error(kind)
    if band is None:
        band = max((b for _, b in errors), default=UNMEASURED)
    return max(band, FLOOR)


def plan_band(plan: Plan, profile, by_kind: dict | None = None) -> float:
    """How far ``plan``'s predicted seconds may be off: the widest band of the kinds of
    pass holding at least SHARE of its time."""
    by_kind = shares(plan, profile) if by_kind is None else by_kind
    total = sum(by_kind.values()) or 1.0
    return max(kind_band(k, profile) for k, s in by_kind.items()
               if s >= SHARE * total or s == max(by_kind.values()))


@dataclass(frozen=True)
class Band:
    """A predicted time and how far it may be off: ``low`` … ``high`` seconds."""

    seconds: float
    band: float
    kind: str

    @property
    def low(self) -> float:
        return self.seconds * math.exp(-self.band)

    @property
    def high(self) -> float:
        return self.seconds * math.exp(self.band)


def banded(plan: Plan, profile) -> Band:
    """``plan``'s predicted seconds with its band and the kind of pass it is bound by."""
    by_kind = shares(plan, profile)  # they sum to the plan's price
    return Band(sum(by_kind.values()), plan_band(plan, profile, by_kind),
                dominant_kind(plan, profile, by_kind))
