"""The layer kinds and widths of a chain, without parameters: what the cost model and the
planners need, parsed from a spec string such as ``"dense:128 tanh dense:1"``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import LAYERS, Layer


def known_tokens() -> str:
    return ", ".join(cls.token() for cls in LAYERS.values())


def parse_token(token: str, in_width: int) -> tuple:
    """(kind, output width) of one spec token such as ``dense:64``, ``conv:5`` or
    ``grouped:64:4``, after a layer of ``in_width``: the layer's name, then one integer ≥ 1
    per argument it takes (``Layer.arguments``), then its own checks (``Layer.structure``)."""
    name, *args = token.split(":")
    layer_cls = LAYERS.get(name.lower())
    if layer_cls is None:
        raise ValueError(f"unknown layer {token!r} in spec; known layers: {known_tokens()}")
    wanted = layer_cls.arguments
    if len(args) != len(wanted):
        if not wanted:
            raise ValueError(f"layer {token!r}: {name} takes no width argument")
        if wanted == ("WIDTH",):
            raise ValueError(f"layer {token!r} needs a width, as in {name}:64")
        raise ValueError(f"layer {token!r} needs {len(wanted)} argument(s), as in "
                         f"{layer_cls.token()}")
    values = []
    for what, arg in zip(wanted, args):
        what = "width" if what == "WIDTH" else what
        try:
            value = int(arg)
        except ValueError:
            raise ValueError(f"layer {token!r}: {what} {arg!r} is not an integer") from None
        if value <= 0:
            raise ValueError(f"layer {token!r}: {what} must be ≥ 1, got {value}")
        values.append(value)
    try:
        return layer_cls.structure(tuple(values), in_width)
    except ValueError as err:
        raise ValueError(f"layer {token!r}: {err}") from None


class Widths:
    """n, m and depth, read from ``widths`` (n, n_1, ..., m): what a ChainShape and a Chain
    both answer."""

    widths: tuple[int, ...]

    @property
    def n(self) -> int:
        """Input width."""
        return self.widths[0]

    @property
    def m(self) -> int:
        """Output width."""
        return self.widths[-1]

    @property
    def depth(self) -> int:
        """Number of layers."""
        return len(self.widths) - 1


@dataclass(frozen=True)
class ChainShape(Widths):
    """The layer kinds and widths of a chain, without parameters.

    layers  layer kinds, first to last: classes, or ``layers.Kind`` for layers with a
            structural argument (conv:K, grouped:WIDTH:G)
    widths  (n, n_1, ..., m): input width then each layer's output width
    """

    layers: tuple[type[Layer], ...]
    widths: tuple[int, ...]

    @classmethod
    def from_spec(cls, spec: str, n: int) -> ChainShape:
        """Parse and validate a spec string for input width n; draws nothing."""
        if not isinstance(spec, str):
            raise TypeError(f"spec must be a string, got {type(spec).__name__}")
        n = positive_int(n, "n")
        tokens = spec.replace(",", " ").split()
        if not tokens:
            raise ValueError(f"empty spec; use layers among {known_tokens()}")
        layers, widths = [], [n]
        for token in tokens:
            kind, out = parse_token(token, widths[-1])
            layers.append(kind)
            widths.append(out)
        return cls(tuple(layers), tuple(widths))


def positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be ≥ 1, got {value}")
    return int(value)
