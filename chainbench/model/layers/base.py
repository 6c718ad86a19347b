"""What every layer provides: a name, its width, its cost and its rules; the registry gives
it an op code, by which the generated dispatch (``dispatch``) calls its rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# Columns of a compiled program row (see model.program.Program): the layer's op code, its
# input and output widths, where its parameters start in the flat buffer, and where its
# slot starts on the tape.
OP, W_IN, W_OUT, P_OFF, S_OFF = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Rules:
    """A layer's kernels, as the engines call them. Each takes the layer's program ``row``
    and the chain's flat ``params`` first (a rule reads its widths and parameters from
    them), and ``saved`` is the layer's tape slot onward.

    value(row, params, x, y)                  y = f(x); returns multiply-adds
    value_complex(row, params, x, y)          the same for complex x (the complex step)
    jvp(row, params, x, X_dot, y, Y_dot)      y and Y_dot = J X_dot; (value, tangent) madds
    record(row, params, x, y, saved)          y, and what the VJP needs into saved
    vjp(row, params, saved, Y_bar, X_bar)     X_bar = Y_bar J from the tape
    tangent(row, params, saved, X_dot, Y_dot) Y_dot = J X_dot from the tape
    explicit(row, params, saved, i0, j0, J)   J = J_k[i0:i0+R, j0:j0+C]; entries written
    """

    value: Callable
    value_complex: Callable
    jvp: Callable
    record: Callable
    vjp: Callable
    tangent: Callable
    explicit: Callable

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


@dataclass(frozen=True)
class LayerCost:
    """Work and memory of one layer, as the cost model counts them.

    value    multiply-adds to evaluate the layer once
    tangent  multiply-adds to push one tangent lane through it (one JVP)
    adjoint  multiply-adds to pull one cotangent row back through it (one VJP)
    saved    float64 entries its VJP needs recorded on the tape (at most out_width: engines
             size per-layer scratch by it)
    explicit entries written to form its Jacobian as a dense (out, in) matrix
    """

    value: int
    tangent: int
    adjoint: int
    saved: int
    explicit: int


class Layer:
    """Base of all layers. A subclass sets ``name``, its ``cost`` and its ``rules`` (kernels
    written in its module, before the class); ``register`` gives it its ``op`` code."""

    name: str = ""
    op: int = -1  # set by the registry (layers/__init__.py); -1: not registered
    rules: Rules | None = None
    #: True when the spec token takes a width argument (``dense:WIDTH``).
    takes_width: bool = False
    #: True when the layer's ``value_complex`` rule is the analytic continuation of its real
    #: value, so the complex step Im f(x + ih)/h sees its derivative.
    #: Off by default: a layer without such a rule is refused, never differentiated wrongly.
    complex_safe: bool = False

    #: The layer's value in primitive scalar operations, for the operation-level engines
    #: (``op-reverse``, ``op-forward``): a kernel ``lowering(row, params, st, x0, y0, t0)``
    #: that reads its input from value slots x0…, writes its output to slots y0… and may use
    #: ``op_temps`` temporary slots from t0, each operation one call of ``model.ops``
    #: (``ops.mulc(st, y, x, c)``, ``ops.add(st, y, y, t)``). None: not lowered; those
    #: engines refuse chains holding it. (Activations set ``scalar_lowering`` instead.)
    lowering = None

    @classmethod
    def op_counts(cls, in_width: int, out_width: int) -> dict[str, int]:
        """Operations its lowering emits at these widths, per primitive name: the cost
        model's count, which the engines check every recording against."""
        raise NotImplementedError(f"{cls.__name__} has no operation-level lowering")

    @classmethod
    def op_temps(cls, in_width: int, out_width: int) -> int:
        """Temporary value slots its lowering uses beside its input and output."""
        return 0

    def out_width(self, in_width: int) -> int:
        """Width of the output for an input of ``in_width``; raises if it cannot take it."""
        return in_width

    def in_width(self) -> int | None:
        """Input width the layer insists on, or None if it takes any width."""
        return None

    @property
    def params(self) -> np.ndarray:
        """The layer's parameters as one flat float64 array (empty for none)."""
        return np.empty(0)

    @classmethod
    def parameters(cls, in_width: int, out_width: int) -> int:
        """float64 entries of ``params`` at these widths (none by default)."""
        return 0

    @classmethod
    def cost(cls, in_width: int, out_width: int) -> LayerCost:
        """Multiply-adds and saved floats at these widths (a class method: the cost model
        predicts from shapes alone, before any parameter is drawn)."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, width: int | None, in_width: int, rng: np.random.Generator) -> Layer:
        """Build the layer named by a spec token; ``width`` is its output width."""
        return cls()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def spec(self) -> str:
        return self.name
