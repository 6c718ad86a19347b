"""Numbers given by a user — in an experiment file, a flag or an option — are finite and in
their range: NaN or infinity would switch a guard off (``budget_s = nan`` compares False
with every time) or make a loop endless (``max_seconds = inf``)."""

from __future__ import annotations

import math

from ...errors import ConfigError


def check_float(what: str, value, low: float | None = None, high: float | None = None):
    """``value`` if it is a finite number in (low, high] (low excluded, high included; None:
    no bound), else a ConfigError naming ``what`` and the range: the one rule for every
    float of an experiment, flag or option. Not a number at all is the caller's to refuse."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float
        finite = False
    if not finite or (low is not None and value <= low) or (high is not None and value > high):
        lo = "" if low is None else f" > {low:g}"
        hi = "" if high is None else f" ≤ {high:g}"
        both = " and" if lo and hi else ""
        got = repr(value) if len(repr(value)) <= 30 else f"{repr(value)[:20]}…"
        raise ConfigError(f"{what}: must be a finite number{lo}{both}{hi}, got {got}")
    return value
