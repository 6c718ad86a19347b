"""Pass costs as curves: what the passes a plan runs reach on this machine, measured at the
sizes plans run them with the kernels ``explain`` times (``pass_kernels``), and read back by
log-log interpolation.

Rows are (kind, lanes, size in bytes, rate):

    'tangent'  W @ X, W k×k and X k×lanes (forward mode's lanes through a dense layer),
               multiply-adds per second, size = the bytes of W; lanes 1 is y = W x
    'adjoint'  Y @ W, Y lanes×k (reverse mode's rows through a dense layer), likewise
    'copy'     a block copied, bytes moved (read and written) per second, size = the block's
    'fill'     a block set to a constant, bytes per second
    'alloc'    a fresh buffer, its pages written once (faulted in): bytes per second
    'alloc-numpy'  the same from numpy, called from Python (an operation-level tape): for a
               large one numpy asks for huge pages, which fault in faster
"""

from __future__ import annotations

import math

import numpy as np

from .pass_kernels import time_alloc, time_alloc_numpy, time_copy, time_fill, time_product

PRODUCTS = ("tangent", "adjoint")
BLOCKS = ("copy", "fill", "alloc", "alloc-numpy")
#: Lanes and matrix sides of the product curves; block sizes (bytes) of the others.
LANES = (1, 4, 16, 64, 256)
SIDES = (64, 256, 1024)
BLOCK_SIZES = tuple(2**e for e in range(13, 27, 2))  # 8 KiB … 64 MiB
LANES_QUICK, SIDES_QUICK, BLOCK_SIZES_QUICK = (1, 16), (64, 256), (2**13, 2**19)


def measure_curves(quick: bool = False) -> tuple[tuple[str, int, float, float], ...]:
    """Every curve's rows, measured now (the caller holds one thread)."""
    lanes, sides, sizes = ((LANES_QUICK, SIDES_QUICK, BLOCK_SIZES_QUICK) if quick
                           else (LANES, SIDES, BLOCK_SIZES))
    rows = []
    for k in sides:
        for c in lanes:
            madds = k * k * c
            rows.append(("tangent", c, 8.0 * k * k, madds / time_product((k, k, c))))
            rows.append(("adjoint", c, 8.0 * k * k, madds / time_product((c, k, k))))
    for size in sizes:
        entries = size // 8
        rows.append(("copy", 0, float(size), 2 * size / time_copy(entries)))
        rows.append(("fill", 0, float(size), size / time_fill(entries)))
        rows.append(("alloc", 0, float(size), size / time_alloc(size)))
        rows.append(("alloc-numpy", 0, float(size), size / time_alloc_numpy(size)))
    return tuple(rows)


def curve_rate(curves, kind: str, size: float, lanes: int = 0) -> float | None:
    """The rate of ``kind`` at ``size`` bytes (and ``lanes``, for a product): interpolated
    log-log between the measured points, bilinear in (lanes, size) for a product, held at
    the curves' ends; None when ``curves`` has none of that kind."""
    points = [(c, s, r) for kind_, c, s, r in curves if kind_ == kind]
    if not points:
        return None
    if kind not in PRODUCTS:
        return _along([(s, r) for _, s, r in points], size)
    by_lanes = sorted({c for c, _, _ in points})
    (c0, c1), t = bracket(by_lanes, max(lanes, 1))
    low = _along([(s, r) for c, s, r in points if c == c0], size)
    high = _along([(s, r) for c, s, r in points if c == c1], size)
    return math.exp(math.log(low) + t * (math.log(high) - math.log(low)))


def _along(pairs, x: float) -> float:
    pairs = sorted(pairs)
    xs = np.log([s for s, _ in pairs])
    ys = np.log([r for _, r in pairs])
    return float(np.exp(np.interp(math.log(max(x, 1.0)), xs, ys)))


def bracket(points: list[int], x: float) -> tuple[tuple[int, int], float]:
    """The neighbours of ``x`` among sorted ``points`` and its log-position between them,
    held at the ends."""
    x = min(max(x, points[0]), points[-1])
    for a, b in zip(points, points[1:]):
        if x <= b:
            return (a, b), (math.log(x) - math.log(a)) / (math.log(b) - math.log(a))
    return (points[-1], points[-1]), 0.0
