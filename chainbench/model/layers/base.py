"""What every layer provides: a name, its width, its cost and its rules; the registry gives
it an op code, by which the generated dispatch (``dispatch``) calls its rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# Columns of a compiled program row (see model.program.Program): the layer's op code, its
# input and output widths, where its parameters start in the flat buffer, where its slot
# starts on the tape, and its structural argument (conv's kernel size, grouped's number of
# blocks; 0 for layers without one).
OP, W_IN, W_OUT, P_OFF, S_OFF, ARG = 0, 1, 2, 3, 4, 5
PROGRAM_COLUMNS = 6


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
class SecondRules:
    """A layer's second-order kernels, beside its first-order ``Rules``: what its curvature
    (the second derivative of each output) adds to a Hessian. Linear layers (dense, conv,
    grouped) have none: their rules add nothing and count 0.

    record(row, params, x, y, saved, curv)   after ``Rules.record``: what the curvature needs
                                             beyond the tape into curv (g''(x) for an
                                             activation), a slot laid out as ``saved``
    curvature(row, params, saved, curv, X_dot, Y_dot, Y_bar, Z)
        Z[l] += (ȳ_r · ∇²f)[ẋ_l] for c lanes ẋ_l = X_dot[:, l] (their images J ẋ_l in
        Y_dot): the derivative of the VJP along ẋ_l, ȳ held; Y_bar has one row (r = 0) or
        one per lane (r = l). Z is (c, in).
    pairs(row, params, saved, curv, L, R, R_out, S)
        S[:, a·p + b] += ∇²f[L[:, a], R[:, b]] for left lanes L (in, c) and right lanes
        R (in, p), R_out = J R: the second-order tangents of direction pairs (hyper-dual).
    Each returns multiply-adds.
    """

    record: Callable
    curvature: Callable
    pairs: Callable

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


@dataclass(frozen=True)
class SecondCost:
    """Multiply-adds of a layer's second-order rules (``SecondRules``), as the second-order
    cost model counts them.

    record     filling its curvature slot once (an activation: one g'' per entry)
    curvature  one lane of ``curvature`` (one row ȳ paired with one lane ẋ)
    pair       one direction pair of ``pairs``
    """

    record: int
    curvature: int
    pair: int


#: A linear layer's second-order cost: no curvature.
LINEAR = SecondCost(record=0, curvature=0, pair=0)


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


@dataclass(frozen=True)
class Kind:
    """A layer class with its structural argument bound (conv's kernel size K, grouped's
    number of blocks G): what a ChainShape holds for a layer whose cost and Jacobian pattern
    the class alone does not fix. It answers as the class does (name, op, complex_safe, …),
    with ``cost``, ``parameters``, ``pattern`` and ``from_spec`` taking the argument."""

    cls: type
    arg: int

    def cost(self, in_width: int, out_width: int) -> LayerCost:
        return self.cls.cost(in_width, out_width, self.arg)

    def parameters(self, in_width: int, out_width: int) -> int:
        return self.cls.parameters(in_width, out_width, self.arg)

    def pattern(self, in_width: int, out_width: int):
        return self.cls.pattern(in_width, out_width, self.arg)

    def from_spec(self, width: int, in_width: int, rng: np.random.Generator) -> Layer:
        return self.cls.from_spec(width, in_width, rng, self.arg)

    def second_cost(self, in_width: int, out_width: int) -> SecondCost:
        return self.cls.second_cost(in_width, out_width, self.arg)

    def op_counts(self, in_width: int, out_width: int) -> dict[str, int]:
        return self.cls.op_counts(in_width, out_width, self.arg)

    def op_temps(self, in_width: int, out_width: int) -> int:
        return self.cls.op_temps(in_width, out_width, self.arg)

    # What the engines, the cost model and the peers read of a layer, as its class says:
    # named one by one, so that a name the class lacks fails here, not one call deeper.
    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def op(self) -> int:
        return self.cls.op

    @property
    def structured(self) -> bool:
        return self.cls.structured

    @property
    def complex_safe(self) -> bool:
        return self.cls.complex_safe

    @property
    def matrix_product(self) -> bool:
        return self.cls.matrix_product

    def layer_class(self) -> type:
        return self.cls

    def lowered(self) -> bool:
        return self.cls.lowered()

    def __repr__(self) -> str:
        return f"{self.cls.__name__}[{self.arg}]"


class Layer:
    """Base of all layers. A subclass sets ``name``, its ``cost`` and its ``rules`` (kernels
    written in its module, before the class); ``register`` gives it its ``op`` code."""

    name: str = ""
    op: int = -1  # set by the registry (layers/__init__.py); -1: not registered
    rules: Rules | None = None
    #: Its second-order kernels (``SecondRules``), beside ``rules``.
    rules2: SecondRules | None = None
    #: The integer arguments of its spec token, by name: ("WIDTH",) for ``dense:WIDTH``
    #: (WIDTH: the output width), ("K",) for ``conv:K``; () for a bare name.
    arguments: tuple[str, ...] = ()
    #: True when the spec token sets the output width (its arguments include WIDTH).
    takes_width: bool = False
    #: True when its Jacobian ``pattern`` has structural zeros (diagonal, banded, blocks);
    #: False: every output may depend on every input, and so does the whole chain's J.
    structured: bool = False
    #: True when the layer's ``value_complex`` rule is the analytic continuation of its real
    #: value, so the complex step Im f(x + ih)/h sees its derivative.
    #: Off by default: a layer without such a rule is refused, never differentiated wrongly.
    complex_safe: bool = False
    #: True when the layer's lane rules multiply the lanes by a (w_out × w_in) parameter
    #: matrix: the time model prices them as a GEMM of that shape, else by bytes moved.
    matrix_product: bool = False
    #: The spec token the time model's calibration times the layer by, ``{w}`` its width
    #: (``machine.own_costs``); a layer whose token needs arguments names typical ones.
    probe: str = ""

    @classmethod
    def layer_class(cls) -> type:
        """The layer class (a ``Kind`` answers its class too)."""
        return cls

    @classmethod
    def lowered(cls) -> bool:
        """Whether it has a lowering the operation-level engines can run."""
        return cls.lowering is not None

    @classmethod
    def lowering_call(cls) -> tuple[list[str], dict]:
        """How the generated dispatch of lowerings (``model.lowering``) runs this layer's:
        its source lines in ``lower_layer(row, params, st, x0, y0, t0)`` and the names they
        call."""
        name = f"lower_{cls.op}"
        return [f"        {name}(row, params, st, x0, y0, t0)"], {name: cls.lowering}

    @classmethod
    def token(cls) -> str:
        """The spec token as the docs write it: ``dense:WIDTH``, ``conv:K``, ``tanh``."""
        return ":".join((cls.name, *cls.arguments))

    @classmethod
    def structure(cls, args: tuple[int, ...], in_width: int) -> tuple[type | Kind, int]:
        """(kind, output width) of the spec token with integer ``args`` (one per name in
        ``arguments``) after a layer of ``in_width``; a ValueError says what is wrong. By
        default WIDTH, if taken, is the output width and the kind is the class itself."""
        out = args[cls.arguments.index("WIDTH")] if "WIDTH" in cls.arguments else in_width
        return cls, out

    @property
    def kind(self) -> type | Kind:
        """What the cost model knows of this layer: its class, or a ``Kind`` binding its
        structural argument."""
        return type(self)

    @property
    def arg(self) -> int:
        """Its structural argument, for the program table's ARG column (0: none)."""
        return 0

    @classmethod
    def pattern(cls, in_width: int, out_width: int):
        """The structural nonzeros of its Jacobian, a boolean (out, in) scipy.sparse CSR
        array: every entry a value could reach (full, unless a layer says otherwise)."""
        import scipy.sparse as sp

        return sp.csr_array(np.ones((out_width, in_width), dtype=bool))

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
    def second_cost(cls, in_width: int, out_width: int) -> SecondCost:
        """Multiply-adds of its second-order rules at these widths (``SecondCost``)."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, width: int | None, in_width: int, rng: np.random.Generator) -> Layer:
        """Build the layer named by a spec token; ``width`` is its output width."""
        return cls()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def spec(self) -> str:
        return self.name
