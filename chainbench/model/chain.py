"""Chains of layers: build from arrays or a spec string, validate, evaluate, and compile
to the flat form the kernels take (an int64 program table and one float64 parameter buffer)."""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

import numpy as np

from .._jit import direct
from .layers import LAYERS, Layer
from .program import Program, bind_evaluate, compile_program
from .shape import ChainShape, Widths, positive_int

#: Op code -> the registered layer class the kernels run for it (see layers.dispatch).
OP_CODES = {cls.op: cls for cls in LAYERS.values()}


class Chain(Widths):
    """A composition f = f_K ∘ … ∘ f_1 of layers.

    Parameters
    ----------
    layers : sequence of Layer
        Applied first to last. Their parameter arrays (``Dense.W``, ``Dense.b``) become
        read-only: the chain compiles them once into its ``program``, so a change in place
        would be silently ignored. To change parameters, build a new layer and chain
        (``Chain([Dense(W2, b), ...])``); the arrays you passed in were copied and stay
        yours. Every layer must be a registered one (``chainbench.LAYERS``): the kernels
        dispatch on op codes.
    n : int, optional
        Input width; taken from the first layer when it has one (Dense), required otherwise.
    """

    def __init__(self, layers: Sequence[Layer], n: int | None = None):
        layers = list(layers)
        if not layers:
            raise ValueError("Chain: needs at least one layer")
        for k, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Chain: item {k} is {type(layer).__name__}, not a layer; "
                    f"use chainbench.Dense(W, b), chainbench.Tanh(), ..."
                )
        for k, layer in enumerate(layers):
            registered = OP_CODES.get(layer.op)
            if registered is None or not isinstance(layer, registered):
                raise TypeError(
                    f"Chain: layer {k} ({type(layer).__name__}) has op code {layer.op!r}, "
                    f"which the kernels do not run"
                    + (f" (it is {registered.__name__}'s)" if registered else "")
                    + "; a new layer needs its rules and a line in the registry "
                    "(LAYERS in chainbench/model/layers/__init__.py)"
                )
        first = layers[0].in_width()
        if n is None:
            if first is None:
                raise ValueError(
                    f"Chain: the first layer ({layers[0].name}) takes any width; pass n=INPUT_WIDTH"
                )
            n = first
        n = positive_int(n, "n")
        widths = [n]
        for k, layer in enumerate(layers):
            try:
                widths.append(layer.out_width(widths[-1]))
            except ValueError as err:
                prev = f"layer {k - 1} ({layers[k - 1].name})" if k else "the input"
                raise ValueError(
                    f"Chain: layer {k} ({layer.name}) cannot take width {widths[-1]} from {prev}: {err}"
                ) from None
        self.layers: tuple[Layer, ...] = tuple(layers)
        self.widths: tuple[int, ...] = tuple(widths)
        self.input_shape: tuple[int] = (n,)  # what x's shape must be
        _freeze(self.layers)

    @classmethod
    def from_spec(cls, spec: str, n: int, seed: int = 0) -> Chain:
        """Build a chain from a spec such as ``"dense:128 tanh dense:1"``, parameters drawn
        from ``numpy.random.default_rng(seed)``."""
        shape = ChainShape.from_spec(spec, n)
        rng = np.random.default_rng(seed)
        layers = [
            layer_cls.from_spec(shape.widths[k + 1], shape.widths[k], rng)
            for k, layer_cls in enumerate(shape.layers)
        ]
        return cls(layers, n=shape.n)

    @property
    def shape(self) -> ChainShape:
        """Layer kinds and widths without parameters: what the cost model needs."""
        return ChainShape(tuple(layer.kind for layer in self.layers), self.widths)

    @property
    def spec(self) -> str:
        return " ".join(layer.spec() for layer in self.layers)

    def __repr__(self) -> str:
        return f"Chain({self.spec!r}, n={self.n})"

    def __len__(self) -> int:
        return len(self.layers)

    @cached_property
    def program(self) -> Program:
        """The compiled form; built once per chain (layers are treated as immutable)."""
        return compile_program(self.layers, self.widths, self.shape)

    def __getstate__(self) -> dict:
        # the resolved engine calls hold closures and kernels: rebuilt on use, not pickled
        state = self.__dict__.copy()
        state.pop("bound_calls", None)
        state.pop("bound_evaluate", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        _freeze(self.layers)  # unpickled arrays come back writeable

    @cached_property
    def bound_calls(self) -> dict:
        """The bound Jacobians of this chain, by the arguments they were bound with (filled
        by ``bound.bind`` on first use, keyed there)."""
        return {}

    @cached_property
    def bound_evaluate(self):
        """The value sweep bound to this chain (x -> f(x)), resolved once: at small n a call
        takes a few µs, and F is the denominator of every J/F. After its first call it is
        the compiled entry point itself (``_jit.direct``): callers pass a checked x."""
        run = bind_evaluate(self.program)

        def first(x):
            y = run(x)
            self.__dict__["bound_evaluate"] = direct(run, x)
            return y

        return first

    def __call__(self, x) -> np.ndarray:
        """Evaluate f(x) for x of shape (n,)."""
        # x checked by four attribute reads where it is already what the kernel takes: at
        # small n the whole evaluation takes about a µs
        if type(x) is not np.ndarray or x.dtype is not _F64 or x.shape != self.input_shape \
                or not x.flags.carray:
            x = check_input(x, self.widths[0], "x")
        return self.bound_evaluate(x)


def _freeze(layers) -> None:
    """Make every array a layer holds read-only (see ``Chain``)."""
    for layer in layers:
        for value in getattr(layer, "__dict__", {}).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False


def shape_of(chain, what: str = "chain") -> ChainShape:
    """The shape of a Chain or ChainShape, or a TypeError saying what to pass instead."""
    if isinstance(chain, Chain):
        return chain.shape
    if isinstance(chain, ChainShape):
        return chain
    hint = (f"; for a spec string pass chainbench.ChainShape.from_spec({chain!r}, n)"
            if isinstance(chain, str) else "")
    raise TypeError(f"{what} must be a chainbench.Chain or ChainShape, got "
                    f"{type(chain).__name__}{hint}")


_F64 = np.dtype(np.float64)


def check_input(x, n: int, what: str = "x") -> np.ndarray:
    """x as a contiguous float64 vector of length n, or a clear error saying what is wrong."""
    # a read-only or non-contiguous array would make numba compile another specialisation;
    # flags.carray: C-contiguous, aligned and writeable, read in one attribute access
    if type(x) is not np.ndarray or x.dtype is not _F64 or not x.flags.carray:
        check_not_masked(x, what)
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{what} must hold real numbers, got dtype {arr.dtype}")
        x = np.array(arr, dtype=np.float64, order="C")
    if x.ndim != 1 or x.shape[0] != n:
        raise ValueError(f"{what} must have shape ({n},) for this chain, got {x.shape}")
    return x


def check_not_masked(a, what: str) -> None:
    """TypeError for a masked array with masked entries: the kernels would read the values
    under the mask as if they were data."""
    if isinstance(a, np.ma.MaskedArray) and np.ma.is_masked(a):
        raise TypeError(f"{what} is a masked array with masked entries; the mask would be "
                        f"ignored: pass a plain array, e.g. {what}.filled(0.0)")
