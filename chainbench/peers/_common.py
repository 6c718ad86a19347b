"""What every peer needs: the chain's layers and parameters read back from a compiled
program, the peer's Jacobian function cut where its users' timing cuts it (``PeerFunction``),
and a per-program cache of those functions."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model.layers.dispatch import ARG, P_OFF, W_IN, W_OUT


def unpack(program) -> list[tuple[str, tuple[np.ndarray, ...]]]:
    """(layer name, parameter arrays) per layer, first to last, as copies, read from each
    layer's slice of ``program.params`` in the layout its ``params`` writes: a dense layer's
    (W (out, in), b (out,)); a conv layer's (w (K,), b ()); a grouped layer's
    (W (G, out/G, in/G), b (out,)); () for layers without parameters."""
    layers = []
    for cls, row in zip(program.shape.layers, program.table):
        w_in, w_out, p, arg = int(row[W_IN]), int(row[W_OUT]), int(row[P_OFF]), int(row[ARG])
        flat = program.params[p:]
        if cls.name == "dense":
            W = flat[: w_out * w_in].reshape(w_out, w_in).copy()
            layers.append((cls.name, (W, flat[w_out * w_in : w_out * w_in + w_out].copy())))
        elif cls.name == "conv":
            layers.append((cls.name, (flat[:arg].copy(), flat[arg : arg + 1].copy())))
        elif cls.name == "grouped":
            size = w_out * w_in // arg
            W = flat[:size].reshape(arg, w_out // arg, w_in // arg).copy()
            layers.append((cls.name, (W, flat[size : size + w_out].copy())))
        else:
            layers.append((cls.name, ()))
    return layers


def rule_for(rules: dict, name: str, peer: str):
    """The peer's rule for layer ``name``, or an error naming it and the layers it knows."""
    from ..errors import PeerUnavailable

    try:
        return rules[name]
    except KeyError:
        raise PeerUnavailable(f"{peer}: no rule for layer {name!r}; it knows "
                              f"{', '.join(rules)}") from None


def composed(program, rules: dict, peer: str, to_array: Callable) -> Callable:
    """f: x -> y, the chain as the composition of ``peer``'s ``rules`` (layer name ->
    rule(params, x)), with each layer's parameters turned into the peer's arrays once."""
    layers = unpack(program)
    chosen = [rule_for(rules, name, peer) for name, _ in layers]
    params = [tuple(to_array(a) for a in arrays) for _, arrays in layers]

    def f(x):
        for rule, p in zip(chosen, params):
            x = rule(p, x)
        return x

    return f


@dataclass(frozen=True)
class PeerFunction:
    """A peer's Jacobian of one chain in parts, so that the part its users time can be timed
    alone: ``jac`` (the peer's x -> the peer's J, computed and awaited: what a JAX or
    PyTorch user times), ``to_peer`` (numpy x -> the peer's array, done once before timing)
    and ``to_numpy`` (the peer's J -> numpy). Called, it takes numpy x and returns numpy J,
    passing x to ``jac`` through ``numpy_in`` (default ``to_peer``): the cheapest way the
    peer takes a numpy argument."""

    jac: Callable
    to_peer: Callable
    to_numpy: Callable
    numpy_in: Callable | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.to_numpy(self.jac((self.numpy_in or self.to_peer)(x)))


class ProgramCache:
    """Compiled functions keyed by (program, transform), dropped when the program is."""

    def __init__(self):
        self._items: dict[tuple[int, str], object] = {}

    def get(self, program, transform: str, build):
        key = (id(program), transform)
        fn = self._items.get(key)
        if fn is None:
            fn = self._items[key] = build(program, transform)
            weakref.finalize(program, self._items.pop, key, None)
        return fn
