"""What every layer provides: a name, an op code for the kernels, its width and its cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """Base of all layers. Subclasses set ``name`` and ``op`` and write their rules
    (value, JVP, VJP) as kernels in the same module, beside the class."""

    name: str = ""
    op: int = -1
    #: True when the spec token takes a width argument (``dense:WIDTH``).
    takes_width: bool = False
    #: True when the layer has a complex value rule (``*_value_complex``) that is the analytic
    #: continuation of its real one, so the complex step Im f(x + ih)/h sees its derivative.
    #: Off by default: a layer without such a rule is refused, never differentiated wrongly.
    complex_safe: bool = False

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
