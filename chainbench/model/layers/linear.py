"""The second-order rules of a linear (affine) layer: its second derivative is zero, so it
records nothing for the curvature and adds nothing to a Hessian (dense, conv, grouped)."""

from __future__ import annotations

from ..._jit import inlined
from .base import LINEAR, SecondRules


@inlined
def linear_record2(row, params, x, y, saved, curv):
    return 0


@inlined
def linear_curvature(row, params, saved, curv, X_dot, Y_dot, Y_bar, Z):
    return 0


@inlined
def linear_pairs(row, params, saved, curv, L, R, R_out, S):
    return 0


#: The rules every linear layer shares (one branch in the generated dispatch).
LINEAR_RULES = SecondRules(linear_record2, linear_curvature, linear_pairs)


def linear_second_cost(cls, in_width: int, out_width: int, arg: int = 0):
    """``Layer.second_cost`` of a linear layer: nothing."""
    return LINEAR
