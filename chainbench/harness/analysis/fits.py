"""Fitted figures from measurements: log-log scaling exponents with 95 % intervals over the
points that measure the algorithm (one measured memory regime, above the per-call overhead),
R² of time against predicted work, and the crossover where forward mode overtakes reverse."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

#: A point measures work rather than fixed per-call cost (dispatch, allocation) when its time
#: is at least this many times the per-call overhead the profile measured, and this many
#: times the series' smallest time (which is mostly that fixed cost when the series starts
#: small).
OVERHEAD_FACTOR = 10.0
#: Fewest points an exponent is fitted over; with fewer it is not fitted (NaN).
MIN_POINTS = 3
#: A regime holding at least this many points and reaching the largest n is fitted before a
#: fuller one: the asymptotic regime is what an exponent promises, and past the last cache
#: the streaming rate is flat, where inside a cache it may keep rising with the working set
#: (Zen 4's L3), which moved the fitted range, and the exponent, from run to run.
ASYMPTOTIC_POINTS = 5
#: A fitted exponent is trusted when its 95 % interval is at most this wide either side.
MAX_HALF_WIDTH = 0.5



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


def above_overhead(times, overhead_s: float | None = None) -> np.ndarray:
    """Mask of the points whose time is ≥ OVERHEAD_FACTOR × the series' smallest and, when
    the per-call overhead is known, ≥ OVERHEAD_FACTOR × ``overhead_s``: there the work the
    cost model counts dominates what every call costs anyway."""
    t = np.asarray(times, dtype=float)
    if t.size == 0 or not np.isfinite(t).any():
        return np.zeros(t.shape, dtype=bool)
    keep = t >= OVERHEAD_FACTOR * np.nanmin(t)
    if overhead_s:
        keep &= t >= OVERHEAD_FACTOR * overhead_s
    return keep


#: The regime of a point whose multiply-adds, not its memory traffic, set its time.
COMPUTE = "compute"
#: A point is compute-bound when streaming its working set once, at the bandwidth measured
#: for that size, takes at most this fraction of its multiply-adds' time at the peak GEMM
#: rate: a dense product reuses each loaded number many times; a matrix-vector product
#: (reverse mode's gradient) uses it once and is never compute-bound.
COMPUTE_BOUND = 0.25


def compute_bound(madds, working_set_bytes, profile) -> np.ndarray:
    """Mask of the points that are compute-bound on the machine ``profile`` describes
    (``peak_madds_per_s``, ``bandwidth_at``): see COMPUTE_BOUND."""
    madds = np.asarray(madds, dtype=float)
    ws = np.asarray(working_set_bytes, dtype=float)
    stream_s = np.array([w / profile.bandwidth_at(w) if np.isfinite(w) else np.inf
                         for w in ws])
    return stream_s <= COMPUTE_BOUND * madds / profile.peak_madds_per_s


def is_transition(level) -> bool:
    """Whether a regime label names the edge between two levels ('L2→L3') or is unknown."""
    return not isinstance(level, str) or not level or "→" in level


@dataclass(frozen=True)
class FitRange:
    """The points an exponent is fitted over (``mask``), the regime they share ('' where the
    rows name none), the rule that chose them, and ``note``: why there is no trustworthy
    fit ('' when there is one)."""

    mask: np.ndarray
    regime: str
    rule: str
    note: str = ""


def fit_range(sizes, times, levels=None, overhead_s: float | None = None) -> FitRange:
    """Which points an exponent is fitted over: those above the per-call overhead
    (``above_overhead``) inside one measured regime (``levels``, one label per point, as
    ``MachineProfile.regime`` gives them; a transition such as 'L2→L3' is never one): of the
    regimes holding ``ASYMPTOTIC_POINTS`` such points, the one reaching the largest n; with
    none that wide, the one with the most, the one reaching the larger n on a tie. With fewer
    than MIN_POINTS there the mask holds what there is and ``note`` says why it is too few."""
    sizes, times = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    above = above_overhead(times, overhead_s)
    threshold = f"time ≥ {OVERHEAD_FACTOR:g}× smallest" + (
        f" and ≥ {OVERHEAD_FACTOR:g}× call overhead" if overhead_s else "")
    if levels is None:
        mask, regime = above, ""
    else:
        levels = np.asarray(levels, dtype=object)
        counts = {}
        for level in dict.fromkeys(levels[above]):
            if not is_transition(level):
                inside = above & (levels == level)
                counts[level] = (int(inside.sum()), float(sizes[inside].max()))
        wide = {lv: c for lv, c in counts.items() if c[0] >= ASYMPTOTIC_POINTS}
        if wide:  # the regime reaching the largest n among those wide enough to fit
            regime = max(wide, key=lambda lv: (wide[lv][1], wide[lv][0]))
        else:  # else the fullest, the one reaching the larger n on a tie
            regime = max(counts, key=counts.get) if counts else ""
        mask = above & (levels == regime) if regime else np.zeros(sizes.shape, dtype=bool)
    rule = f"{threshold}, working set in {regime}" if regime else threshold
    k = int(mask.sum())
    if k >= MIN_POINTS:
        return FitRange(mask, regime, rule)
    note = f"only {k} point{'' if k == 1 else 's'} above overhead"
    if levels is None:
        return FitRange(mask, regime, rule, f"{note}, need {MIN_POINTS}")
    tally = {}
    for level in levels[above]:
        name = "in transitions" if is_transition(level) else level
        tally[name] = tally.get(name, 0) + 1
    where = f" (above overhead: {', '.join(f'{lv} {c}' for lv, c in tally.items())})" \
        if tally else ""
    return FitRange(mask, regime, rule, f"{note} in one regime, need {MIN_POINTS}{where}")


@dataclass(frozen=True)
class ScalingFit:
    """An exponent (``slope``) over ``range``; ``note`` says why it is not to be trusted
    ('' when it is): too few points (then the slope is NaN) or too wide an interval."""

    slope: Slope
    range: FitRange
    note: str

    @property
    def trusted(self) -> bool:
        return not self.note


def scaling_fit(sizes, times, levels=None, overhead_s: float | None = None) -> ScalingFit:
    """Exponent of time against size over ``fit_range``, judged: fitted only from at least
    MIN_POINTS points, trusted only when its 95 % interval is within ± MAX_HALF_WIDTH."""
    sizes, times = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    chosen = fit_range(sizes, times, levels, overhead_s)
    if chosen.note:
        nan = math.nan
        return ScalingFit(Slope(nan, nan, nan, nan, int(chosen.mask.sum())), chosen, chosen.note)
    fit = loglog_slope(sizes[chosen.mask], times[chosen.mask])
    half = (fit.high - fit.low) / 2
    note = "" if half <= MAX_HALF_WIDTH else (
        f"95% interval ±{half:.2g} is wider than ±{MAX_HALF_WIDTH:g}" if np.isfinite(half)
        else "no interval (the points do not fit a line)")
    return ScalingFit(fit, chosen, note)


def scaling_exponent(sizes, times, levels=None, overhead_s: float | None = None) -> Slope:
    """Exponent of time against size over ``fit_range`` (NaN when too few points qualify)."""
    return scaling_fit(sizes, times, levels, overhead_s).slope


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
