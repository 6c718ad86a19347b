"""Fitted figures from measurements: log-log scaling exponents with 95 % intervals, R² of
time against predicted work, and the crossover where forward mode overtakes reverse."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

#: A point is in the compute-dominated range when its time is at least this many times the
#: series' smallest time (which is mostly fixed per-call overhead: dispatch, allocation).
COMPUTE_FACTOR = 10.0


@dataclass(frozen=True)
class Slope:
    """Least-squares slope of log(y) on log(x), with its 95 % confidence interval."""

    slope: float
    low: float
    high: float
    r2: float
    points: int

    def as_dict(self) -> dict:
        return asdict(self)


NO_SLOPE = Slope(math.nan, math.nan, math.nan, math.nan, 0)


def loglog_slope(x, y) -> Slope:
    """Slope of log y against log x (the scaling exponent) with a t-based 95 % interval.

    Needs at least 3 positive points; returns NaNs otherwise.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    lx, ly = np.log(x[keep]), np.log(y[keep])
    k = lx.size
    if k < 3 or np.ptp(lx) == 0:
        return Slope(math.nan, math.nan, math.nan, math.nan, int(k))
    fit = stats.linregress(lx, ly)
    half = stats.t.ppf(0.975, k - 2) * fit.stderr
    return Slope(float(fit.slope), float(fit.slope - half), float(fit.slope + half),
                 float(fit.rvalue**2), int(k))


def compute_range(times) -> np.ndarray:
    """Mask of the points whose time is ≥ COMPUTE_FACTOR × the smallest: there the work
    the cost model counts dominates the fixed per-call overhead."""
    t = np.asarray(times, dtype=float)
    if t.size == 0 or not np.isfinite(t).any():
        return np.zeros(t.shape, dtype=bool)
    return t >= COMPUTE_FACTOR * np.nanmin(t)


def memory_level(working_set: float, caches: dict) -> str:
    """The smallest cache level ('L1d', 'L2', 'L3') that holds ``working_set`` bytes, or
    'DRAM'. Time per multiply-add jumps where a series crosses a level, so an exponent
    fitted across that jump is the cache's, not the algorithm's."""
    for level in ("L1d", "L2", "L3"):
        size = caches.get(level)
        if size and working_set <= size:
            return level
    return "DRAM"


def fit_range(sizes, times, levels=None) -> tuple[np.ndarray, str]:
    """Which points an exponent is fitted over, and the rule that chose them:
    1. above overhead (time ≥ COMPUTE_FACTOR × the smallest) and in the memory level of the
       largest size, when ≥ 3 points qualify: work dominates and costs the same per unit;
    2. else above overhead alone, when ≥ 3 points qualify;
    3. else the largest three sizes."""
    sizes, times = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    above = compute_range(times)
    if levels is not None and len(sizes):
        levels = np.asarray(levels, dtype=object)
        top = levels[np.argmax(sizes)]
        same = above & (levels == top)
        if same.sum() >= 3:
            return same, f"time ≥ {COMPUTE_FACTOR:g}× smallest, working set in {top}"
    if above.sum() >= 3:
        return above, f"time ≥ {COMPUTE_FACTOR:g}× smallest"
    mask = np.zeros(sizes.shape, dtype=bool)
    mask[np.argsort(sizes)[-3:]] = True
    return mask, "largest 3 sizes"


def scaling_exponent(sizes, times, levels=None) -> Slope:
    """Exponent of time against size over ``fit_range``."""
    sizes, times = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    mask, _ = fit_range(sizes, times, levels)
    return loglog_slope(sizes[mask], times[mask])


def r2_linear(predicted, measured) -> float:
    """R² of measured time against predicted multiply-adds, fitted as a line through both."""
    p, t = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    keep = np.isfinite(p) & np.isfinite(t)
    if keep.sum() < 3 or np.ptp(p[keep]) == 0:
        return math.nan
    return float(stats.linregress(p[keep], t[keep]).rvalue ** 2)


def crossover(sizes, ratio) -> float:
    """The size where ``ratio`` (e.g. forward time / reverse time) crosses 1, by linear
    interpolation in log-log; NaN when it never crosses."""
    s, r = np.asarray(sizes, dtype=float), np.asarray(ratio, dtype=float)
    order = np.argsort(s)
    s, r = s[order], r[order]
    lr = np.log(r)
    for i in range(len(s) - 1):
        if lr[i] == 0:
            return float(s[i])
        if lr[i] * lr[i + 1] < 0:
            a, b = math.log(s[i]), math.log(s[i + 1])
            return float(math.exp(a + (b - a) * lr[i] / (lr[i] - lr[i + 1])))
    return float(s[-1]) if len(s) and lr[-1] == 0 else math.nan
