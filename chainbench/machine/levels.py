"""Find the levels of the memory hierarchy in a measured streaming curve (rate against
working set): its plateaus, and where the rate drops from one to the next.

    from chainbench.machine.levels import detect_levels
    detect_levels(sizes, rates)
    # (MemoryLevel('L1', 2.1e7, 6.2e10), MemoryLevel('DRAM', None, 2.1e10)): bytes, bytes/s

The curve is read in log-log. The smallest sizes, where a call's fixed cost still dominates
and the rate rises with size, are left out. The rest is segmented bottom-up: neighbouring
segments merge, the closest first, while their union stays flat (rates within ``min_drop`` of
each other, little slope); runs spanning less than ``min_span`` in size are transitions or
outliers and are dropped; neighbours whose drop is not sustained (the slower one's upper
quartile within ``min_drop`` of the faster one's lower quartile) merge at the end. Each
plateau left is a level: its bandwidth the median rate on it, its capacity the working set
where the curve (smoothed by a running median of three) crosses the geometric mean of its
bandwidth and the next level's, interpolated log-log.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .profile import MemoryLevel

#: A drop between plateaus smaller than this fraction is noise or detail, not a new level.
MIN_DROP = 0.25
#: A plateau spans at least this factor in working set; shorter runs are transitions.
MIN_SPAN = 2.0
#: A plateau's rate changes by at most this much per doubling of the working set (in log).
MAX_SLOPE = 0.2
#: Leading sizes slower than the fastest rate by more than this fraction are overhead-bound.
RISE_TOL = 0.10


def detect_levels(sizes, rates, *, min_drop: float = MIN_DROP, min_span: float = MIN_SPAN,
                  max_slope: float = MAX_SLOPE,
                  rise_tol: float = RISE_TOL) -> tuple[MemoryLevel, ...]:
    """The memory levels a streaming curve shows, fastest first.

    Parameters
    ----------
    sizes, rates : sequences of float, same length ≥ 1
        Working sets (bytes) and the rates measured at them (bytes per second), any order.
    min_drop : float
        Least relative drop in rate between the plateaus of two levels (0.25: 25 %).
    min_span : float
        Least ratio between the largest and the smallest working set of a plateau.
    max_slope : float
        Most |d ln(rate) / d log2(size)| a plateau may have.
    rise_tol : float
        Leading sizes below (1 - rise_tol) × the fastest rate are overhead-bound, ignored.

    Returns
    -------
    tuple of MemoryLevel
        'L1', 'L2', … in order of size, the last one 'DRAM' with capacity None; a single
        'DRAM' level when the curve shows no sustained drop.
    """
    x, raw, y = _prepare(sizes, rates)
    start = _first_plateau_point(y, rise_tol)
    segments = _segment(x, np.log(raw), start, np.log(1.0 / (1.0 - min_drop)), np.log2(min_span),
                        max_slope)
    if not segments:  # no plateau anywhere: one level at the typical rate
        return (MemoryLevel("DRAM", None, float(np.median(raw[start:]))),)
    bandwidths = [float(np.median(raw[seg])) for seg in segments]
    levels = [MemoryLevel(f"L{i + 1}", _crossing(x, y, upper, lower, target), bandwidth)
              for i, (upper, lower, bandwidth, target) in enumerate(zip(
                  segments, segments[1:], bandwidths,
                  np.log(bandwidths[:-1]) / 2 + np.log(bandwidths[1:]) / 2))]
    return (*levels, MemoryLevel("DRAM", None, bandwidths[-1]))


def _prepare(sizes, rates):
    """log2 sizes, raw rates and smoothed ln rates, sorted by size; checked."""
    sizes = np.asarray(sizes, dtype=float).ravel()
    rates = np.asarray(rates, dtype=float).ravel()
    if sizes.shape != rates.shape or sizes.size == 0:
        raise ValueError(f"sizes and rates must be non-empty and of one length, got "
                         f"{sizes.size} sizes and {rates.size} rates")
    if not (np.all(np.isfinite(sizes)) and np.all(np.isfinite(rates))
            and np.all(sizes > 0) and np.all(rates > 0)):
        raise ValueError("sizes and rates must be finite and positive")
    order = np.argsort(sizes, kind="stable")
    x, raw = np.log2(sizes[order]), rates[order]
    y = np.log(raw)
    if y.size >= 3:  # running median of three: one slow sample cannot fake a level
        y = np.concatenate([y[:1], np.median(np.stack([y[:-2], y[1:-1], y[2:]]), axis=0),
                            y[-1:]])
    return x, raw, y


def _first_plateau_point(y, rise_tol: float) -> int:
    """Index of the first size within ``rise_tol`` of the fastest rate: before it a call's
    fixed cost dominates (a real faster level would itself be the fastest)."""
    floor = y.max() + np.log(1.0 - rise_tol)
    return int(np.argmax(y >= floor))


def _segment(x, y, start: int, drop: float, span: float,
             max_slope: float) -> list[list[int]]:
    """Plateaus (lists of point indices, in order) from ``start`` on.

    Bottom-up: neighbouring segments merge, the closest in median first, while their union
    is flat (ln rates within ``drop`` of each other, |slope| ≤ ``max_slope`` per octave);
    runs spanning less than ``span`` octaves are outliers or transitions and are dropped, the
    shortest first, merging again after each; repeat until nothing changes. Then neighbours
    whose drop is not sustained (the upper quartile of the slower within ``drop`` of the
    lower quartile of the faster, or a rise) merge whatever their spread: levels only ever
    get slower.
    """
    segments = [(i,) for i in range(start, len(y))]
    xs, ys = x.tolist(), y.tolist()  # segments are a few dozen points: plain floats are faster

    @lru_cache(maxsize=None)  # segments are tuples of indices; each is summarised once
    def stats(seg):
        """(median, lower quartile, upper quartile, spread, least-squares slope) of ln rate."""
        v = sorted(ys[i] for i in seg)
        n = len(seg)
        mx = sum(xs[i] for i in seg) / n
        sxx = sum((xs[i] - mx) ** 2 for i in seg)
        slope = sum((xs[i] - mx) * ys[i] for i in seg) / sxx if n > 1 else 0.0
        return _quantile(v, 0.5), _quantile(v, 0.25), _quantile(v, 0.75), v[-1] - v[0], slope

    def flat(a, b):
        _, _, _, spread, slope = stats(a + b)
        return spread < drop and abs(slope) <= max_slope

    def not_sustained(a, b):  # b's upper quartile within drop of a's lower one, or above
        return stats(a)[1] - stats(b)[2] < drop

    def merge_closest(joinable) -> bool:
        pairs = [(abs(stats(a)[0] - stats(b)[0]), j)
                 for j, (a, b) in enumerate(zip(segments, segments[1:])) if joinable(a, b)]
        if not pairs:
            return False
        j = min(pairs)[1]
        segments[j:j + 2] = [segments[j] + segments[j + 1]]
        return True

    def width(seg):  # octaves; sizes are not exact powers of two, hence the slack
        return xs[seg[-1]] - xs[seg[0]] + 0.05 * span

    while True:
        while merge_closest(flat):
            pass
        short = [len(seg) for seg in segments if width(seg) < span]
        if not short:
            break
        # drop the shortest first (outliers, then transitions): the neighbours of an outlier
        # merge again before they can be dropped as too short themselves
        segments = [seg for seg in segments if width(seg) >= span or len(seg) > min(short)]
    while merge_closest(not_sustained):
        pass
    return [list(seg) for seg in segments]


def _quantile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, linear between order statistics (numpy's default)."""
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


def _crossing(x, y, upper: list[int], lower: list[int], target: float) -> float:
    """Working set (bytes) where the smoothed curve ``y`` last falls through ``target`` (ln
    rate) before the ``lower`` plateau begins, interpolated log-log."""
    for j in range(lower[0] - 1, upper[0] - 1, -1):
        if y[j] >= target:
            t = (y[j] - target) / (y[j] - y[j + 1]) if y[j] > y[j + 1] else 0.0
            return float(2.0 ** (x[j] + t * (x[j + 1] - x[j])))
    return float(2.0 ** (0.5 * (x[upper[-1]] + x[lower[0]])))


def name_after_caches(levels, caches: dict) -> tuple[MemoryLevel, ...]:
    """The levels renamed after the cache whose reported size (``caches``: sysfs, e.g.
    {'L1d': 32768, 'L2': 524288, 'L3': 33554432}) lies within a factor 2 of the measured
    capacity, the nearest in log; a level that matches none is 'cache1', 'cache2', … by
    position. Sizes the OS reports are hints: they name a level, never make one."""
    named, used = [], set()
    for i, level in enumerate(levels):
        name = level.name if level.capacity_bytes is None else f"cache{i + 1}"
        if level.capacity_bytes is not None:
            near = sorted((abs(np.log2(size / level.capacity_bytes)), label)
                          for label, size in caches.items() if size and size > 0)
            for distance, label in near:
                if distance <= 1.0 and label not in used:
                    name = "L1" if label == "L1d" else label
                    used.add(label)
                break
        named.append(MemoryLevel(name, level.capacity_bytes, level.bandwidth_Bps))
    return tuple(named)
