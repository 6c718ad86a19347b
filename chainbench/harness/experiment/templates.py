"""Chain templates: a grid's ``layers`` entries, whole spec strings written in terms of n, for
chains the dense grid (hidden widths and one activation) cannot express — conv and grouped
chains, for the sparse experiments.

``{n}`` stands for the input width and ``{n/B}`` for n divided by B (which must divide it):
``"conv:5 tanh conv:5"``, ``"grouped:{n}:{n/32} tanh grouped:{n}:{n/32}"`` (blocks of 32).
"""

from __future__ import annotations

import re

from ...errors import ConfigError
from ...model.shape import ChainShape

_FIELD = re.compile(r"\{n(?:/(\d+))?\}")


def render(template: str, n: int) -> str:
    """The spec of ``template`` at input width ``n``; ConfigError where B does not divide n
    or a brace is not ``{n}`` or ``{n/B}``."""

    def value(match: re.Match) -> str:
        divisor = int(match.group(1) or 1)
        if divisor < 1 or n % divisor:
            raise ConfigError(f"grid.layers: {template!r} at n = {n}: {match.group(0)} needs "
                              f"n divisible by {divisor}")
        return str(n // divisor)

    spec = _FIELD.sub(value, template)
    if "{" in spec or "}" in spec:
        raise ConfigError(f"grid.layers: {template!r}: only {{n}} and {{n/B}} stand for "
                          f"widths")
    return spec


def template_shape(template: str, n: int) -> ChainShape:
    """The shape of ``template`` at n, or a ConfigError naming the template and the layer."""
    spec = render(template, n)
    try:
        return ChainShape.from_spec(spec, n)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"grid.layers: {template!r} at n = {n}: {err}") from None
