"""The one way chainbench chooses by predicted time: price every candidate's whole call on a
machine profile and take the cheapest, remembered per chain shape and machine.

``strategies.auto_choice`` (which engine and chunk mode='auto' runs) and
``optimal.time_choice`` (which bracketing mode='optimal' runs) are both this choice over
their own candidates.
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable

#: Prices a shape's candidates on a profile: (seconds, tie-break, candidate) triples; the
#: least seconds wins, then the least tie-break.
Pricer = Callable[..., Iterable[tuple[float, tuple, object]]]


def fastest(kind: Hashable, shape, profile, candidates: Pricer):
    """The candidate of ``candidates(shape, profile)`` predicted fastest; computed once per
    (kind, shape, profile, its overheads): predictions and binds ask on every call."""
    key = (kind, shape, profile.created, profile.own_costs)
    if key not in _CHOSEN:
        _CHOSEN[key] = min(candidates(shape, profile), key=lambda c: c[:2])[2]
    return _CHOSEN[key]


#: (kind, shape, profile, overheads) -> the candidate chosen.
_CHOSEN: dict[tuple, object] = {}
