"""The layer kinds and widths of a chain, without parameters: what the cost model and the
planners need, parsed from a spec string such as ``"dense:128 tanh dense:1"``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import LAYERS, Layer


def known_tokens() -> str:
    return ", ".join(f"{name}:WIDTH" if cls.takes_width else name for name, cls in LAYERS.items())


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

    layers  layer classes, first to last
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
            name, _, arg = token.partition(":")
            layer_cls = LAYERS.get(name.lower())
            if layer_cls is None:
                raise ValueError(f"unknown layer {token!r} in spec; known layers: {known_tokens()}")
            if layer_cls.takes_width:
                if not arg:
                    raise ValueError(f"layer {token!r} needs a width, as in {name}:64")
                try:
                    out = int(arg)
                except ValueError:
                    raise ValueError(f"layer {token!r}: width {arg!r} is not an integer") from None
                if out <= 0:
                    raise ValueError(f"layer {token!r}: width must be ≥ 1, got {out}")
            elif arg:
                raise ValueError(f"layer {token!r}: {name} takes no width argument")
            else:
                out = widths[-1]
            layers.append(layer_cls)
            widths.append(out)
        return cls(tuple(layers), tuple(widths))


def positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be ≥ 1, got {value}")
    return int(value)
