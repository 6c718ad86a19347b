"""Formatting shared by the subcommands' terminal output."""

from __future__ import annotations

import math


def seconds(s: float) -> str:
    """'3.4 µs', '12.1 ms', '2.05 s'; '-' for a missing figure."""
    if not isinstance(s, float) or math.isnan(s):
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def nbytes(b: float) -> str:
    """'512 B', '1.5 KiB', '32 MiB', '1.2 GiB'."""
    if not isinstance(b, (int, float)) or math.isnan(b):
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def chain_shape(spec: str, n: int):
    """The ChainShape of ``spec`` at input width ``n``, or a ConfigError saying what is
    wrong with it (the CLI's one-line error, exit 2)."""
    from ..errors import ConfigError
    from ..model.shape import ChainShape

    if n < 1:
        raise ConfigError(f"--n must be ≥ 1, got {n}")
    try:
        return ChainShape.from_spec(spec, n)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
