"""Elementwise activations y_i = g(x_i): each is a scalar rule returning (g, g'),
and one set of array kernels turns g' into the JVP (g'·x_dot) and the VJP (y_bar·g').
Beside each real rule, where g is analytic, its complex continuation (for the complex step)."""

from __future__ import annotations

import cmath
import math

import numpy as np

from ..._jit import inlined, kernel
from . import vecmath
from .base import Layer, LayerCost


class Elementwise(Layer):
    """An activation applied to each entry; its Jacobian is diag(g'(x))."""

    @classmethod
    def cost(cls, in_width: int, out_width: int) -> LayerCost:
        # one g per entry; each lane or row is scaled by the saved g'
        return LayerCost(value=out_width, tangent=out_width, adjoint=out_width, saved=out_width,
                         explicit=out_width * out_width)


# --- the activations: value and derivative side by side -----------------------------------


class Tanh(Elementwise):
    name, op = "tanh", 2
    complex_safe = True


@kernel
def tanh(z):
    y = vecmath.tanh(z)  # not math.tanh: a libm call per entry, never vectorised
    return y, 1.0 - y * y


@kernel
def tanh_complex(z):
    return cmath.tanh(z)


class Sigmoid(Elementwise):
    name, op = "sigmoid", 3
    complex_safe = True


@kernel
def sigmoid(z):
    # two branches so exp never overflows
    if z >= 0.0:
        y = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        y = e / (1.0 + e)
    return y, y * (1.0 - y)


@kernel
def sigmoid_complex(z):
    # the same two branches, chosen by the real part: both are 1/(1 + e^-z), so analytic
    if z.real >= 0.0:
        return 1.0 / (1.0 + cmath.exp(-z))
    e = cmath.exp(z)
    return e / (1.0 + e)


class ReLU(Elementwise):
    name, op = "relu", 4
    # max(z, 0) has no analytic continuation (it is not differentiable at 0), so the
    # complex step cannot differentiate it: refused rather than wrong.
    complex_safe = False


@kernel
def relu(z):
    # written so that NaN stays NaN in value and derivative
    if z > 0.0:
        return z, 1.0
    if z <= 0.0:
        return 0.0, 0.0
    return z, z


class Sin(Elementwise):
    name, op = "sin", 5
    complex_safe = True


@kernel
def sin(z):
    return math.sin(z), math.cos(z)


@kernel
def sin_complex(z):
    return cmath.sin(z)


class Softplus(Elementwise):
    name, op = "softplus", 6
    complex_safe = True


@kernel
def softplus(z):
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large |z|
    y = 0.5 * (z + abs(z)) + math.log1p(math.exp(-abs(z)))
    s, _ = sigmoid(z)
    return y, s


@kernel
def softplus_complex(z):
    # |z| is not analytic; branch on the real part instead: z + log(1 + e^-z) for Re z > 0,
    # log(1 + e^z) otherwise, the same function, with e^∓z never overflowing
    if z.real > 0.0:
        return z + _log1p_complex(cmath.exp(-z))
    return _log1p_complex(cmath.exp(z))


@kernel
def _log1p_complex(e):
    """log(1 + e) for complex e, the real part by log1p so tiny e keeps its digits:
    |1 + e|² = 1 + (2 Re e + Re e² + Im e²)."""
    a, b = e.real, e.imag
    return complex(0.5 * math.log1p(a * (2.0 + a) + b * b), math.atan2(b, 1.0 + a))


@kernel
def activations(op, x, y, d, want_d):
    """y_i = g(x_i) over the vector x for activation ``op``, and d_i = g'(x_i) if ``want_d``
    (else d is not touched): the op-code table of the elementwise layers. One loop per
    activation, so the branch-free rules (tanh) vectorise; a branch on op per entry keeps
    every loop scalar. want_d is loop-invariant, so value-only loops skip g' entirely."""
    n = x.shape[0]
    if op == 2:
        for i in range(n):
            y[i], g1 = tanh(x[i])
            if want_d:
                d[i] = g1
    elif op == 3:
        for i in range(n):
            y[i], g1 = sigmoid(x[i])
            if want_d:
                d[i] = g1
    elif op == 4:
        for i in range(n):
            y[i], g1 = relu(x[i])
            if want_d:
                d[i] = g1
    elif op == 5:
        for i in range(n):
            y[i], g1 = sin(x[i])
            if want_d:
                d[i] = g1
    elif op == 6:
        for i in range(n):
            y[i], g1 = softplus(x[i])
            if want_d:
                d[i] = g1
    else:
        y[:n] = math.nan
        if want_d:
            d[:n] = math.nan


@kernel
def activation_complex(op, z):
    """g(z) for complex z, the op-code table of the complex-safe activations (NaN for the
    others, which the complex-step engine refuses before it gets here)."""
    if op == 2:
        return tanh_complex(z)
    if op == 3:
        return sigmoid_complex(z)
    if op == 5:
        return sin_complex(z)
    if op == 6:
        return softplus_complex(z)
    return complex(math.nan, math.nan)


# --- array rules shared by all activations ------------------------------------------------


@inlined
def elementwise_value(op, x, y):
    """y_i = g(x_i). Returns multiply-adds."""
    activations(op, x, y, y, False)  # d unused: g' is not computed
    return x.shape[0]


@inlined
def elementwise_value_complex(op, x, y):
    """y_i = g(x_i) for complex x. Returns multiply-adds, counted as for a real value."""
    for i in range(x.shape[0]):
        y[i] = activation_complex(op, x[i])
    return x.shape[0]


@inlined
def elementwise_jvp(op, x, X_dot, y, Y_dot):
    """y_i = g(x_i), Y_dot[i, :] = g'(x_i) X_dot[i, :]. Returns (value, tangent) multiply-adds."""
    c = X_dot.shape[1]
    d = np.empty(x.shape[0])
    activations(op, x, y, d, True)
    for i in range(x.shape[0]):
        for l in range(c):
            Y_dot[i, l] = d[i] * X_dot[i, l]
    return x.shape[0], x.shape[0] * c


@inlined
def elementwise_record(op, x, y, saved):
    """y_i = g(x_i); the tape keeps g'(x_i), all the VJP needs. Returns multiply-adds."""
    activations(op, x, y, saved, True)
    return x.shape[0]


@inlined
def elementwise_vjp(saved, Y_bar, X_bar):
    """X_bar[r, i] = Y_bar[r, i] g'(x_i). Returns multiply-adds."""
    for r in range(Y_bar.shape[0]):
        for i in range(Y_bar.shape[1]):
            X_bar[r, i] = Y_bar[r, i] * saved[i]
    return Y_bar.shape[0] * Y_bar.shape[1]


@inlined
def elementwise_tangent(saved, X_dot, Y_dot):
    """Y_dot[i, :] = g'(x_i) X_dot[i, :] from the tape. Returns multiply-adds."""
    for i in range(X_dot.shape[0]):
        for l in range(X_dot.shape[1]):
            Y_dot[i, l] = saved[i] * X_dot[i, l]
    return X_dot.shape[0] * X_dot.shape[1]


@inlined
def elementwise_explicit(saved, i0, j0, J):
    """J = diag(g'(x))[i0:i0+R, j0:j0+C] for J of shape (R, C). Returns entries written."""
    R, C = J.shape
    for i in range(R):
        for j in range(C):
            J[i, j] = 0.0
    for i in range(max(i0, j0), min(i0 + R, j0 + C)):
        J[i - i0, i - j0] = saved[i]
    return R * C
