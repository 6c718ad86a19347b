"""The time-optimal way to a Jacobian: the bracketing dynamic programme (``plan``) priced in
predicted seconds on this machine instead of multiply-adds, and the choice between its plan
and the pure engines, made by predicted time too. What mode='optimal' runs.

A step's price is the sum of its passes' prices (``time_model.pass_seconds``) at the
bandwidth of the chain's parameters' level; the choice then prices the whole call (the
recording sweep, the steps, the copies, the buffers: ``sweeps.optimal_plan``) against pure forward and pure reverse mode.
"""

from __future__ import annotations

from ..model.shape import ChainShape
from .choice import Candidate, fastest
from .plan import Step, plan
from .predictions import F64, parameter_floats
from .sweeps import optimal_plan
from .time_model import pass_seconds, price_plan
from .work import Pass, explicit_pass, lane_pass, product_pass

class TimeCosts:
    """``plan``'s pricing in predicted seconds (see ``plan.MaddCosts`` for the methods)."""

    def __init__(self, shape: ChainShape, profile):
        self.shape, self.profile, self.w = shape, profile, shape.widths
        self.bandwidth = profile.bandwidth_at(F64 * parameter_floats(shape))
        self.overheads = profile.own_costs

    def _seconds(self, p: Pass) -> float:
        return (pass_seconds(p, self.profile, self.bandwidth, self.overheads)
                + self.overheads.pass_s * p.count)

    def tangents(self, lo: int, first: int, hi: int) -> float:
        return sum(self._seconds(lane_pass(self.shape, k, self.w[lo], "tangent"))
                   for k in range(first, hi))

    def adjoints(self, lo: int, last: int, hi: int) -> float:
        return sum(self._seconds(lane_pass(self.shape, k, self.w[hi], "adjoint"))
                   for k in range(lo, last))

    def explicit(self, k: int) -> float:
        return self._seconds(explicit_pass(self.w[k + 1] * self.w[k]))

    def product(self, lo: int, mid: int, hi: int) -> float:
        return self._seconds(product_pass(self.w[hi], self.w[mid], self.w[lo]))


def time_choice(shape: ChainShape, profile=None) -> Step:
    """The root Step of what mode='optimal' runs: pure forward or reverse mode's sweeps
    (``Step.whole``), the plan priced in seconds or the one priced in multiply-adds —
    whichever whole call is predicted fastest on ``profile``'s machine (default: this
    machine's), a bracketing only by more than the model's error; forward first on a tie."""
    if profile is None:
        from ..machine.current import current_profile

        profile = current_profile()
    return fastest("optimal", shape, profile, _candidates)


def _candidates(shape: ChainShape, profile):
    by_time, by_madds = plan(shape, costs=TimeCosts(shape, profile)), plan(shape)
    pure = (Step.whole(shape, "tangents"), Step.whole(shape, "adjoints"))
    for order, choice in enumerate((*pure, by_time, by_madds)):
        whole = optimal_plan(shape, choice=choice)
        # the pure modes are the safe choice: a bracketing must beat them by more than the
        # model's measured error for its passes (cost.choice)
        yield Candidate(price_plan(whole, profile).seconds, (order,), choice, whole,
                        safe=choice.pure is not None)
