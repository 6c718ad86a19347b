"""Softmax y = exp(x) / sum(exp(x)): not elementwise, its Jacobian diag(y) - y yᵀ is dense."""

from __future__ import annotations

import math

import numpy as np

from ..._jit import inlined
from .. import ops
from .base import W_OUT, Layer, LayerCost, Rules, SecondCost, SecondRules


@inlined
def softmax_value(row, params, x, y):
    """y = exp(x - c) / sum, c the largest (real part of an) entry, for real or complex x
    (the complex step's value rule too: softmax does not depend on the shift, so the result
    is analytic though c is not). Returns multiply-adds."""
    w = x.shape[0]
    top = -math.inf
    for i in range(w):
        if x[i].real > top or x[i].real != x[i].real:  # a NaN becomes the shift: propagates
            top = x[i].real
    for i in range(w):
        y[i] = np.exp(x[i] - top)
    total = y[0]
    for i in range(1, w):
        total += y[i]
    for i in range(w):
        y[i] /= total
    return 2 * w


@inlined
def softmax_jvp(row, params, x, X_dot, y, Y_dot):
    """Y_dot[:, l] = y * (X_dot[:, l] - y·X_dot[:, l]). Returns (value, tangent) multiply-adds."""
    value = softmax_value(row, params, x, y)
    return value, softmax_tangent(row, params, y, X_dot, Y_dot)


@inlined
def softmax_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot[:, l] = y * (X_dot[:, l] - y·X_dot[:, l]), y from the tape. Returns multiply-adds."""
    y = saved[: row[W_OUT]]
    w, c = X_dot.shape
    for l in range(c):
        s = 0.0
        for i in range(w):
            s += y[i] * X_dot[i, l]
        for i in range(w):
            Y_dot[i, l] = y[i] * (X_dot[i, l] - s)
    return 2 * w * c


@inlined
def softmax_record(row, params, x, y, saved):
    """Value; the tape keeps y."""
    value = softmax_value(row, params, x, y)
    saved[: row[W_OUT]] = y
    return value


@inlined
def softmax_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar[r] = y * (Y_bar[r] - Y_bar[r]·y). Returns multiply-adds."""
    rows, w = Y_bar.shape
    for r in range(rows):
        s = 0.0
        for i in range(w):
            s += Y_bar[r, i] * saved[i]
        for i in range(w):
            X_bar[r, i] = saved[i] * (Y_bar[r, i] - s)
    return 2 * w * rows


@inlined
def softmax_explicit(row, params, saved, i0, j0, J):
    """J = (diag(y) - y yᵀ)[i0:i0+R, j0:j0+C] for J of shape (R, C). Returns entries written."""
    y = saved
    R, C = J.shape
    for i in range(R):
        for j in range(C):
            J[i, j] = -y[i0 + i] * y[j0 + j]
        if j0 <= i0 + i < j0 + C:
            J[i, i0 + i - j0] += y[i0 + i]
    return R * C


@inlined
def softmax_record2(row, params, x, y, saved, curv):
    """The curvature needs y alone, already on the tape."""
    return 0


@inlined
def softmax_curvature(row, params, saved, curv, X_dot, Y_dot, Y_bar, Z):
    """Z[l] += ẏ_l (ȳ − ȳ·y) − y (ȳ·ẏ_l), ẏ_l = Y_dot[:, l]: the VJP y ⊙ (ȳ − ȳ·y)
    differentiated along ẋ_l, ȳ held. Returns multiply-adds."""
    y = saved[: row[W_OUT]]
    w, c = Y_dot.shape
    paired = Y_bar.shape[0] > 1
    for l in range(c):
        y_bar = Y_bar[l] if paired else Y_bar[0]
        s, t = 0.0, 0.0
        for i in range(w):
            s += y_bar[i] * y[i]
            t += y_bar[i] * Y_dot[i, l]
        z = Z[l]
        for i in range(w):
            z[i] += Y_dot[i, l] * (y_bar[i] - s) - y[i] * t
    return 4 * w * c


@inlined
def softmax_pairs(row, params, saved, curv, L, R, R_out, S):
    """S[:, a·p + b] += ẏ_b ⊙ (ℓ_a − y·ℓ_a) − y (ẏ_b·ℓ_a), ẏ_b = R_out[:, b]: the JVP
    y ⊙ (ℓ − y·ℓ) differentiated along r_b. Returns multiply-adds."""
    y = saved[: row[W_OUT]]
    w, c = L.shape
    p = R.shape[1]
    for a in range(c):
        s = 0.0
        for i in range(w):
            s += y[i] * L[i, a]
        for b in range(p):
            t = 0.0
            for i in range(w):
                t += R_out[i, b] * L[i, a]
            for i in range(w):
                S[i, a * p + b] += R_out[i, b] * (L[i, a] - s) - y[i] * t
    return 4 * w * c * p


@inlined
def softmax_lowering(row, params, st, x0, y0, t0):
    """y = exp(x − max x) / Σ exp(x − max x) in primitives: a chain of max, then sub and
    exp per entry, a chain of add, a div per entry; 5w − 2 operations, two temporaries."""
    w = row[W_OUT]
    top, total = x0, y0  # at w = 1 the maximum is x_0 and the sum e_0 itself
    if w > 1:
        top = t0
        ops.max(st, top, x0, x0 + 1)
        for i in range(2, w):
            ops.max(st, top, top, x0 + i)
    for i in range(w):
        ops.sub(st, y0 + i, x0 + i, top)
        ops.exp(st, y0 + i, y0 + i)
    if w > 1:
        total = t0 + 1
        ops.add(st, total, y0, y0 + 1)
        for i in range(2, w):
            ops.add(st, total, total, y0 + i)
    for i in range(w):
        ops.div(st, y0 + i, y0 + i, total)


class Softmax(Layer):
    """Softmax over the whole vector; the VJP needs y saved on the tape."""

    name = "softmax"
    complex_safe = True
    rules = Rules(softmax_value, softmax_value, softmax_jvp, softmax_record,
                  softmax_vjp, softmax_tangent, softmax_explicit)
    rules2 = SecondRules(softmax_record2, softmax_curvature, softmax_pairs)

    lowering = softmax_lowering

    @classmethod
    def op_counts(cls, in_width: int, out_width: int) -> dict[str, int]:
        w = out_width
        return {"max": w - 1, "sub": w, "exp": w, "add": w - 1, "div": w}

    @classmethod
    def op_temps(cls, in_width: int, out_width: int) -> int:
        return 2

    @classmethod
    def second_cost(cls, in_width: int, out_width: int) -> SecondCost:
        # per lane or pair: two dot products (ȳ·y and ȳ·ẏ; y·ℓ and ẏ·ℓ), then 2w
        return SecondCost(record=0, curvature=4 * out_width, pair=4 * out_width)

    @classmethod
    def cost(cls, in_width: int, out_width: int) -> LayerCost:
        # value: exp-and-sum pass, scale pass; tangent/adjoint per lane: y·v, then y*(v - s)
        return LayerCost(
            value=2 * out_width, tangent=2 * out_width, adjoint=2 * out_width, saved=out_width,
            explicit=out_width * out_width,
        )
