"""Elementwise activations y_i = g(x_i). An activation is a class with its scalar rule
``scalar(z) -> (g(z), g'(z))``, its second derivative ``scalar2(z, g, g') -> g''(z)`` and,
where g is analytic, ``scalar_complex(z) -> g(z)`` (for the complex step). The registry
builds from them the op-code table of vectorising loops all activations share
(``build_rules``), and the array rules on top of it: JVP g'·x_dot, VJP y_bar·g', the
diagonal Jacobian, and the second-order rules (``elementwise_second``)."""

from __future__ import annotations

import cmath
import math

import numpy as np

from ..._jit import generate, generated, generated_inlined, inlined, kernel
from .. import ops
from . import vecmath
from .base import OP, W_OUT, Layer, LayerCost, Rules, SecondCost
from .elementwise_second import second_rules



class Elementwise(Layer):
    """An activation applied to each entry; its Jacobian is diag(g'(x)).

    Subclasses set ``name``, ``scalar`` and, when g is analytic, ``scalar_complex``."""

    scalar = None
    scalar_complex = None
    #: g'' from (z, g(z), g'(z)): the value and first derivative are at hand, so tanh's
    #: g'' = −2 g g' costs one multiply, no second tanh.
    scalar2 = None
    structured = True
    #: g in primitives for one entry, for the operation-level engines: a kernel
    #: ``(st, y, x, t)`` emitting ``model.ops`` calls from slot x to slot y, with
    #: ``scalar_temps`` temporary slots from t; ``scalar_ops``: what it emits, per primitive.
    scalar_lowering = None
    scalar_ops: dict[str, int] = {}
    scalar_temps = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.complex_safe = cls.scalar_complex is not None

    @classmethod
    def op_counts(cls, in_width: int, out_width: int) -> dict[str, int]:
        if cls.scalar_lowering is None:
            return super().op_counts(in_width, out_width)
        return {name: k * out_width for name, k in cls.scalar_ops.items()}

    @classmethod
    def op_temps(cls, in_width: int, out_width: int) -> int:
        return cls.scalar_temps

    @classmethod
    def lowered(cls) -> bool:
        return cls.scalar_lowering is not None

    @classmethod
    def lowering_call(cls) -> tuple[list[str], dict]:
        name = f"scalar_{cls.op}"  # the scalar lowering, once per entry
        return ["        for i in range(row[W_OUT]):",
                f"            {name}(st, y0 + i, x0 + i, t0)"], {name: cls.scalar_lowering}

    @classmethod
    def cost(cls, in_width: int, out_width: int) -> LayerCost:
        # one g per entry; each lane or row is scaled by the saved g'
        return LayerCost(value=out_width, tangent=out_width, adjoint=out_width, saved=out_width,
                         explicit=out_width * out_width)

    @classmethod
    def second_cost(cls, in_width: int, out_width: int) -> SecondCost:
        # one g'' per entry; g''·ȳ·ẋ (or g''·ℓ·r per pair): two multiply-adds an entry
        return SecondCost(record=out_width, curvature=2 * out_width, pair=2 * out_width)

    @classmethod
    def pattern(cls, in_width: int, out_width: int):
        """The diagonal: y_i depends on x_i alone."""
        import scipy.sparse as sp

        return sp.eye_array(out_width, dtype=bool, format="csr")


# --- the op-code table of the activations, generated from the registry ----------------------


def table_source(activations) -> str:
    """Source of ``apply(op, x, y, d, want_d)``: y_i = g(x_i) for activation ``op``, and
    d_i = g'(x_i) if ``want_d``; and of ``apply_complex(op, z)``. One loop per activation,
    so branch-free rules (tanh) vectorise (a branch on op per entry keeps every loop scalar);
    want_d is loop-invariant, so value-only loops skip g' entirely. ``apply2(op, x, y, d, dd)``:
    dd_i = g''(x_i) from x, y = g(x) and d = g'(x)."""
    lines = ["def apply(op, x, y, d, want_d):", "    n = x.shape[0]"]
    for cls in activations:
        lines += [f"    if op == {cls.op}:", "        for i in range(n):",
                  f"            y[i], g1 = g_{cls.op}(x[i])",
                  "            if want_d:", "                d[i] = g1", "        return"]
    lines += ["    y[:n] = math.nan", "    if want_d:", "        d[:n] = math.nan", "",
              "def apply2(op, x, y, d, dd):", "    n = x.shape[0]"]
    for cls in activations:
        lines += [f"    if op == {cls.op}:", "        for i in range(n):",
                  f"            dd[i] = g2_{cls.op}(x[i], y[i], d[i])", "        return"]
    lines += ["    dd[:n] = math.nan", "", "def apply_complex(op, z):"]
    for cls in activations:
        if cls.scalar_complex is not None:
            lines += [f"    if op == {cls.op}:", f"        return g_complex_{cls.op}(z)"]
    lines.append("    return complex(math.nan, math.nan)  # refused before it gets here")
    return "\n".join(lines) + "\n"


def build_rules(activations) -> Rules:
    """Give the registered ``activations`` (op codes set) the rules they share: the array
    rules below, over the op-code table generated for them."""
    namespace = {"math": math}
    for cls in activations:
        namespace[f"g_{cls.op}"] = cls.scalar
        namespace[f"g_complex_{cls.op}"] = cls.scalar_complex
        if cls.scalar2 is None:
            raise TypeError(f"{cls.__name__}: an activation needs scalar2, its g''")
        namespace[f"g2_{cls.op}"] = cls.scalar2
    table = generate(table_source(activations), "chainbench activation table", namespace,
                     ("apply", "apply_complex", "apply2"), jit=generated)
    rules = _array_rules(table["apply"], table["apply_complex"])
    rules2 = second_rules(table["apply2"])
    for cls in activations:
        cls.rules, cls.rules2 = rules, rules2
    return rules


def _array_rules(apply, apply_complex) -> Rules:
    """The layer rules of every activation, given the op-code table."""

    @generated_inlined
    def value(row, params, x, y):
        apply(row[OP], x, y, y, False)  # d unused: g' is not computed
        return x.shape[0]

    @generated_inlined
    def value_complex(row, params, x, y):
        for i in range(x.shape[0]):
            y[i] = apply_complex(row[OP], x[i])
        return x.shape[0]  # counted as for a real value

    @generated_inlined
    def record(row, params, x, y, saved):
        """The tape keeps g'(x_i), all the VJP needs."""
        apply(row[OP], x, y, saved[: row[W_OUT]], True)
        return x.shape[0]

    @generated_inlined
    def jvp(row, params, x, X_dot, y, Y_dot):
        d = np.empty(x.shape[0])
        apply(row[OP], x, y, d, True)
        return x.shape[0], elementwise_tangent(row, params, d, X_dot, Y_dot)

    return Rules(value, value_complex, jvp, record, elementwise_vjp, elementwise_tangent,
                 elementwise_explicit)


@inlined
def elementwise_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar[r, i] = Y_bar[r, i] g'(x_i). Returns multiply-adds."""
    for r in range(Y_bar.shape[0]):
        for i in range(Y_bar.shape[1]):
            X_bar[r, i] = Y_bar[r, i] * saved[i]
    return Y_bar.shape[0] * Y_bar.shape[1]


@inlined
def elementwise_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot[i, :] = g'(x_i) X_dot[i, :] from the tape. Returns multiply-adds."""
    for i in range(X_dot.shape[0]):
        for l in range(X_dot.shape[1]):
            Y_dot[i, l] = saved[i] * X_dot[i, l]
    return X_dot.shape[0] * X_dot.shape[1]


@inlined
def elementwise_explicit(row, params, saved, i0, j0, J):
    """J = diag(g'(x))[i0:i0+R, j0:j0+C] for J of shape (R, C). Returns entries written."""
    R, C = J.shape
    for i in range(R):
        for j in range(C):
            J[i, j] = 0.0
    for i in range(max(i0, j0), min(i0 + R, j0 + C)):
        J[i - i0, i - j0] = saved[i]
    return R * C


# --- the activations: value and derivative side by side -----------------------------------


@kernel
def tanh_rule(z):
    y = vecmath.tanh(z)  # not math.tanh: a libm call per entry, never vectorised
    return y, 1.0 - y * y


@kernel
def tanh_second(z, g, g1):
    return -2.0 * g * g1  # (1 − tanh²)' = −2 tanh · (1 − tanh²)


@kernel
def tanh_complex_rule(z):
    return cmath.tanh(z)


@inlined
def tanh_lowering(st, y, x, t):
    ops.tanh(st, y, x)


class Tanh(Elementwise):
    name = "tanh"
    scalar = tanh_rule
    scalar2 = tanh_second
    scalar_complex = tanh_complex_rule
    scalar_lowering, scalar_ops = tanh_lowering, {"tanh": 1}


@kernel
def sigmoid_rule(z):
    # two branches so exp never overflows
    if z >= 0.0:
        y = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        y = e / (1.0 + e)
    return y, y * (1.0 - y)


@kernel
def sigmoid_second(z, g, g1):
    return g1 * (1.0 - 2.0 * g)  # (σ(1 − σ))' = σ'(1 − 2σ)


@kernel
def sigmoid_complex_rule(z):
    # the same two branches, chosen by the real part: both are 1/(1 + e^-z), so analytic
    if z.real >= 0.0:
        return 1.0 / (1.0 + cmath.exp(-z))
    e = cmath.exp(z)
    return e / (1.0 + e)


@inlined
def sigmoid_lowering(st, y, x, t):
    ops.logistic(st, y, x)


class Sigmoid(Elementwise):
    name = "sigmoid"
    scalar = sigmoid_rule
    scalar2 = sigmoid_second
    scalar_complex = sigmoid_complex_rule
    scalar_lowering, scalar_ops = sigmoid_lowering, {"logistic": 1}


@kernel
def relu_rule(z):
    # written so that NaN stays NaN in value and derivative
    if z > 0.0:
        return z, 1.0
    if z <= 0.0:
        return 0.0, 0.0
    return z, z


@kernel
def relu_second(z, g, g1):
    return 0.0 * g1  # 0 on both sides of the kink (taken as 0 at it); NaN stays NaN


@inlined
def relu_lowering(st, y, x, t):
    ops.maxc(st, y, x, 0.0)


class ReLU(Elementwise):
    name = "relu"
    # max(z, 0) has no analytic continuation (it is not differentiable at 0), so the
    # complex step cannot differentiate it: refused rather than wrong.
    scalar = relu_rule
    scalar2 = relu_second
    scalar_lowering, scalar_ops = relu_lowering, {"maxc": 1}


@kernel
def sin_rule(z):
    return math.sin(z), math.cos(z)


@kernel
def sin_second(z, g, g1):
    return -g


@kernel
def sin_complex_rule(z):
    return cmath.sin(z)


@inlined
def sin_lowering(st, y, x, t):
    ops.sin(st, y, x)


class Sin(Elementwise):
    name = "sin"
    scalar = sin_rule
    scalar2 = sin_second
    scalar_complex = sin_complex_rule
    scalar_lowering, scalar_ops = sin_lowering, {"sin": 1}


@kernel
def softplus_rule(z):
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large |z|
    y = 0.5 * (z + abs(z)) + math.log1p(math.exp(-abs(z)))
    s, _ = sigmoid_rule(z)
    return y, s


@kernel
def softplus_second(z, g, g1):
    return g1 * (1.0 - g1)  # g' = σ, so g'' = σ(1 − σ)


@kernel
def softplus_complex_rule(z):
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


@inlined
def softplus_lowering(st, y, x, t):
    """max(x, 0) + log1p(exp(−|x|)), as the rule computes it: never overflows."""
    ops.abs(st, t, x)
    ops.mulc(st, t, t, -1.0)
    ops.exp(st, t, t)
    ops.log1p(st, t, t)
    ops.maxc(st, y, x, 0.0)
    ops.add(st, y, y, t)


class Softplus(Elementwise):
    name = "softplus"
    scalar = softplus_rule
    scalar2 = softplus_second
    scalar_complex = softplus_complex_rule
    scalar_lowering, scalar_temps = softplus_lowering, 1
    scalar_ops = {"abs": 1, "mulc": 1, "exp": 1, "log1p": 1, "maxc": 1, "add": 1}


@kernel
def elu_rule(z):
    # α = 1: z for z > 0, e^z - 1 below, by expm1 so small |z| keeps its digits; NaN stays NaN
    if z > 0.0:
        return z, 1.0
    e = math.expm1(z)
    return e, e + 1.0


@kernel
def elu_second(z, g, g1):
    # 0 for z > 0, e^z = g' below; NaN stays NaN (the test is false for NaN)
    if z > 0.0:
        return 0.0
    return g1


@inlined
def elu_lowering(st, y, x, t):
    """max(x, 0) + expm1(min(x, 0)): one branch of the rule is 0 wherever the other is not."""
    ops.maxc(st, y, x, 0.0)
    ops.minc(st, t, x, 0.0)
    ops.expm1(st, t, t)
    ops.add(st, y, y, t)


class ELU(Elementwise):
    """ELU with α = 1 (Clevert et al. 2016). Piecewise, so not analytic: no complex rule."""

    name = "elu"
    scalar = elu_rule
    scalar2 = elu_second
    scalar_lowering, scalar_temps = elu_lowering, 1
    scalar_ops = {"maxc": 1, "minc": 1, "expm1": 1, "add": 1}
