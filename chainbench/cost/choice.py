"""The one way chainbench chooses by predicted time: price every candidate's whole call on a
machine profile and take the cheapest — but leave the safe default (the faster pure mode at
its default chunk) only for a predicted gain larger than the time model's measured error for
those kinds of pass (``bands``). Remembered per chain shape and machine.

``strategies.auto_choice`` (which engine and chunk mode='auto' runs) and
``optimal.time_choice`` (which bracketing mode='optimal' runs) are both this choice over
their own candidates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from .bands import plan_band


class Candidate(NamedTuple):
    """One way to run the call: its predicted ``seconds`` (least wins), a ``tie`` break
    (least wins), the ``value`` chosen, the ``plan`` it runs, and whether it is ``safe``: a
    pure mode at its default chunk, which a riskier candidate must beat by more than the
    model's error to replace."""

    seconds: float
    tie: tuple
    value: object
    plan: object
    safe: bool


#: Prices a shape's candidates on a profile.
Pricer = Callable[..., Iterable[Candidate]]


@dataclass(frozen=True)
class Choice:
    """What was chosen and why: the ``picked`` candidate, the ``safe`` default, the
    predicted gain of the fastest candidate over it (ln of the ratio), and the ``band`` that
    gain had to exceed."""

    picked: Candidate
    safe: Candidate
    fastest: Candidate
    band: float

    @property
    def gain(self) -> float:
        return math.log(self.safe.seconds / self.fastest.seconds)

    def why(self) -> str:
        """One line: why this candidate."""
        pct = 100 * (math.exp(self.gain) - 1)
        err = 100 * (math.exp(self.band) - 1)
        if self.fastest is self.safe:
            return "predicted fastest, and a pure mode at its default chunk"
        if self.picked is self.safe:
            return (f"kept the pure mode at its default chunk: the fastest candidate was "
                    f"predicted {pct:.0f} % faster, within the model's measured error "
                    f"(±{err:.0f} %) for those passes")
        return (f"predicted {pct:.0f} % faster than the pure mode at its default chunk, more "
                f"than the model's measured error (±{err:.0f} %) for those passes")


def choose(kind: Hashable, shape, profile, candidates: Pricer) -> Choice:
    """The ``Choice`` among ``candidates(shape, profile)``; computed once per (kind, shape,
    profile, its own costs): predictions and binds ask on every call."""
    key = (kind, shape, profile.created, profile.own_costs)
    if key not in _CHOSEN:
        _CHOSEN[key] = _choose(list(candidates(shape, profile)), profile)
    return _CHOSEN[key]


def fastest(kind: Hashable, shape, profile, candidates: Pricer):
    """The value ``choose`` picks."""
    return choose(kind, shape, profile, candidates).picked.value


def _choose(candidates: list[Candidate], profile) -> Choice:
    def order(c: Candidate):
        return c.seconds, c.tie

    best = min(candidates, key=order)
    safe = min((c for c in candidates if c.safe), key=order, default=best)
    if best is safe:
        return Choice(best, safe, best, 0.0)
    band = max(plan_band(best.plan, profile), plan_band(safe.plan, profile))
    gain = math.log(safe.seconds / best.seconds)
    return Choice(best if gain > band else safe, safe, best, band)


#: (kind, shape, profile, own costs) -> the Choice made.
_CHOSEN: dict[tuple, Choice] = {}
