"""The primitive scalar operations the operation-level engines work in, each with its local
partial derivatives, written once, here, in one table.

A primitive takes one or two operands (and, for some, a constant: a weight, a bias, a
literal), and its rule returns the value and the partial derivatives with respect to each
operand: ``rule(a, b, c) -> (y, ∂y/∂a, ∂y/∂b)`` (∂y/∂b is 0 for a unary one); its
``second`` rule the second partials, ``second(a, b, c) -> (∂²y/∂a², ∂²y/∂a∂b, ∂²y/∂b²)``,
which reverse-over-reverse keeps for the primitives that are ``curved`` (the others are
affine in their operands almost everywhere, and their second partials are 0). Layers
express their value in these primitives (their ``lowering``, see ``model.ops``); the
engines read only this table, so no layer's derivative is written twice: a Wengert-list
tape stores the partials the rule returns, forward mode pushes tangents through them.

Kinks (max, min, |·|) take the derivative from the left, as the layer-level ReLU does
(g'(0) = 0): then lowerings that combine them (softplus = max(x, 0) + log1p(e^-|x|)) see
the same derivative at 0 as the layer's own rule. A NaN operand gives NaN value and partials.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._jit import kernel


@dataclass(frozen=True)
class Primitive:
    """One primitive: its name (also its emitting function in ``model.ops``), how many
    operands it differentiates (1 or 2), whether it takes a constant, its rule and, for a
    ``curved`` one (second partials not all 0), its second rule."""

    name: str
    arity: int
    takes_constant: bool
    rule: Callable
    formula: str
    second: Callable | None = None

    @property
    def curved(self) -> bool:
        return self.second is not None


# --- the rules: value and local partials side by side ---------------------------------------


@kernel
def _add(a, b, c):
    return a + b, 1.0, 1.0


@kernel
def _sub(a, b, c):
    return a - b, 1.0, -1.0


@kernel
def _mul(a, b, c):
    return a * b, b, a


@kernel
def _div(a, b, c):
    y = a / b
    return y, 1.0 / b, -y / b


@kernel
def _max(a, b, c):
    if a > b:
        return a, 1.0, 0.0
    if a <= b:  # a tie takes b, the left derivative in a
        return b, 0.0, 1.0
    s = a + b  # NaN
    return s, s, s


@kernel
def _addc(a, b, c):
    return a + c, 1.0, 0.0


@kernel
def _mulc(a, b, c):
    return a * c, c, 0.0


@kernel
def _maxc(a, b, c):
    if a > c:
        return a, 1.0, 0.0
    if a <= c:
        return c, 0.0, 0.0
    return a, a, 0.0  # NaN


@kernel
def _minc(a, b, c):
    if a <= c:
        return a, 1.0, 0.0
    if a > c:
        return c, 0.0, 0.0
    return a, a, 0.0  # NaN


@kernel
def _abs(a, b, c):
    if a > 0.0:
        return a, 1.0, 0.0
    if a <= 0.0:
        return -a, -1.0, 0.0
    return a, a, 0.0  # NaN


@kernel
def _exp(a, b, c):
    e = math.exp(a)
    return e, e, 0.0


@kernel
def _expm1(a, b, c):
    y = math.expm1(a)
    return y, y + 1.0, 0.0


@kernel
def _log1p(a, b, c):
    return math.log1p(a), 1.0 / (1.0 + a), 0.0


@kernel
def _tanh(a, b, c):
    y = math.tanh(a)
    return y, 1.0 - y * y, 0.0


@kernel
def _sin(a, b, c):
    return math.sin(a), math.cos(a), 0.0


@kernel
def _logistic(a, b, c):
    # two branches so exp never overflows
    if a >= 0.0:
        y = 1.0 / (1.0 + math.exp(-a))
    else:
        e = math.exp(a)
        y = e / (1.0 + e)
    return y, y * (1.0 - y), 0.0


# --- second partials of the curved primitives: (∂²y/∂a², ∂²y/∂a∂b, ∂²y/∂b²) ---------------


@kernel
def _mul2(a, b, c):
    return 0.0, 1.0, 0.0


@kernel
def _div2(a, b, c):
    r = 1.0 / b
    return 0.0, -r * r, 2.0 * (a * r) * r * r  # a·r first: no 0·inf for a tiny b


@kernel
def _exp2(a, b, c):
    return math.exp(a), 0.0, 0.0


@kernel
def _log1p2(a, b, c):
    r = 1.0 / (1.0 + a)
    return -r * r, 0.0, 0.0


@kernel
def _tanh2(a, b, c):
    y = math.tanh(a)
    return -2.0 * y * (1.0 - y * y), 0.0, 0.0


@kernel
def _sin2(a, b, c):
    return -math.sin(a), 0.0, 0.0


@kernel
def _logistic2(a, b, c):
    y = _logistic(a, b, c)[0]
    return y * (1.0 - y) * (1.0 - 2.0 * y), 0.0, 0.0


#: The table, in op-code order (a primitive's code is its place here, and what a tape
#: records); ``model.ops`` generates one emitting function from each row.
PRIMITIVES: tuple[Primitive, ...] = (
    Primitive("mulc", 1, True, _mulc, "a·c"),
    Primitive("add", 2, False, _add, "a + b"),
    Primitive("addc", 1, True, _addc, "a + c"),
    Primitive("sub", 2, False, _sub, "a − b"),
    Primitive("mul", 2, False, _mul, "a·b", _mul2),
    Primitive("div", 2, False, _div, "a / b", _div2),
    Primitive("max", 2, False, _max, "max(a, b)"),
    Primitive("maxc", 1, True, _maxc, "max(a, c)"),
    Primitive("minc", 1, True, _minc, "min(a, c)"),
    Primitive("abs", 1, False, _abs, "|a|"),
    Primitive("exp", 1, False, _exp, "exp(a)", _exp2),
    Primitive("expm1", 1, False, _expm1, "exp(a) − 1", _exp2),
    Primitive("log1p", 1, False, _log1p, "log(1 + a)", _log1p2),
    Primitive("tanh", 1, False, _tanh, "tanh(a)", _tanh2),
    Primitive("sin", 1, False, _sin, "sin(a)", _sin2),
    Primitive("logistic", 1, False, _logistic, "1 / (1 + exp(−a))", _logistic2),
)

#: name -> op code
CODES: dict[str, int] = {p.name: code for code, p in enumerate(PRIMITIVES)}
#: op code -> operands differentiated (the multiply-adds one tangent lane or adjoint row costs)
ARITY = np.array([p.arity for p in PRIMITIVES], dtype=np.int64)


def primitive(name: str) -> Primitive:
    """The primitive called ``name``, or a KeyError listing the ones there are."""
    try:
        return PRIMITIVES[CODES[name]]
    except KeyError:
        raise KeyError(f"unknown primitive {name!r}; the table has: "
                       f"{', '.join(CODES)}") from None


def partials(counts: dict[str, int]) -> int:
    """Partial derivatives ``counts`` operations (primitive name -> how many) take: Σ arity."""
    return sum(primitive(name).arity * k for name, k in counts.items())


def curved_entries(counts: dict[str, int]) -> int:
    """How many of ``counts``' operations are curved (keep second partials)."""
    return sum(k for name, k in counts.items() if primitive(name).curved)


def curvature_terms(counts: dict[str, int]) -> int:
    """Second partials ``counts``' curved operations apply to one lane: Σ arity² (a binary
    one's 2 × 2 block, a unary one's single term)."""
    return sum(primitive(name).arity ** 2 * k for name, k in counts.items()
               if primitive(name).curved)
