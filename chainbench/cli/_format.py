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


#: The widest layer (and --n) the commands take: 2³¹ − 1. Sparsity patterns and the
#: operation tape index entries with 32-bit integers, and every vector of a wider chain
#: alone would hold 16 GiB or more.
MAX_WIDTH = 2**31 - 1


def chain_shape(spec: str, n: int):
    """The ChainShape of ``spec`` at input width ``n``, or a ConfigError saying what is
    wrong with it (the CLI's one-line error, exit 2): a malformed spec, or a width outside
    1 … ``MAX_WIDTH``."""
    from ..errors import ConfigError
    from ..model.shape import ChainShape

    if n < 1:
        raise ConfigError(f"--n must be ≥ 1, got {n}")
    if n > MAX_WIDTH:
        raise ConfigError(f"--n must be ≤ {MAX_WIDTH} (2³¹ − 1), got {n}")
    try:
        shape = ChainShape.from_spec(spec, n)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    tokens = spec.replace(",", " ").split()
    for k, width in enumerate(shape.widths[1:]):
        if width > MAX_WIDTH:
            raise ConfigError(f"layer {k + 1} of the spec ({tokens[k]!r}) is {width} wide; "
                              f"widths must be ≤ {MAX_WIDTH} (2³¹ − 1)")
    return shape


def nonnegative_int(text: str) -> int:
    """argparse type of a seed: an integer ≥ 0 (argparse names the flag in its error)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 0, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type of a time budget: a finite number of seconds > 0 (the one rule for a
    user's floats, ``harness.experiment.numbers.check_float``)."""
    import argparse

    from ..harness.experiment.numbers import check_float

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    try:
        return check_float("seconds", value, low=0)
    except ValueError:  # a ConfigError: not finite, or not above 0
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got "
                                         f"{text}") from None


def out_path(text: str):
    """argparse type of an --out path: not empty (an empty path would mean the current folder)."""
    import argparse
    from pathlib import Path

    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name the folder or file to write")
    return Path(text)
