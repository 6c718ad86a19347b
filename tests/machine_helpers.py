"""Test helpers: synthetic streaming curves with known levels, and a synthetic machine profile
so tests never spend seconds calibrating (tests/conftest.py installs one for the session)."""

from __future__ import annotations

import numpy as np

from chainbench._cache import fingerprint
from chainbench.machine.overheads import Overheads
from chainbench.machine.profile import MachineProfile, MemoryLevel, machine_key

KiB, MiB = 2**10, 2**20

#: (capacity bytes, bandwidth bytes/s) of the synthetic profile's levels, DRAM last.
SYNTHETIC_LEVELS = ((48 * KiB, 1.2e11), (1 * MiB, 7.0e10), (32 * MiB, 4.0e10), (None, 1.5e10))


def stream_sizes(lo: float = 8 * KiB, hi: float = 256 * MiB, step: float = 2**0.5) -> np.ndarray:
    """Working sets from ``lo`` to ``hi`` in factors of ``step``, as calibrate measures them."""
    count = int(np.floor(np.log(hi / lo) / np.log(step) + 1e-9)) + 1
    return lo * step ** np.arange(count)


def synthetic_rates(sizes, levels, *, width: float = 0.3, overhead_s: float = 0.0,
                    noise: float = 0.0, outliers: int = 0, seed: int = 0) -> np.ndarray:
    """Streaming rates of a staircase of ``levels`` ((capacity, bandwidth) pairs, the last
    capacity None): ln(rate) steps down by a logistic in log2(size) of ``width`` octaves at
    each capacity, so the curve crosses the geometric mean of two plateaus at the capacity.
    A fixed ``overhead_s`` per call makes the smallest sizes overhead-bound; ``noise`` slows
    each point by a factor exp(|N(0, noise)|) (other processes only add time) and
    ``outliers`` random points by 30 %."""
    sizes = np.asarray(sizes, dtype=float)
    x = np.log2(sizes)
    log_rate = np.full_like(x, np.log(levels[0][1]))
    for (capacity, upper), (_, lower) in zip(levels, levels[1:]):
        log_rate += (np.log(lower) - np.log(upper)) / (1 + np.exp(-(x - np.log2(capacity)) / width))
    rates = sizes / (overhead_s + sizes / np.exp(log_rate))
    rng = np.random.default_rng(seed)
    rates /= np.exp(np.abs(rng.normal(0.0, noise, size=rates.shape))) if noise else 1.0
    if outliers:
        rates[rng.choice(rates.size, size=outliers, replace=False)] *= 0.7
    return rates


def synthetic_lane_rate(side: str, k: int, c: int) -> float:
    """The synthetic profile's rate of a product with one side (M, K or N) c and the others
    k: slow for few lanes (as BLAS is), slower yet for a small inner size, and for small
    matrices; 2e10 madd/s at most."""
    return 2e10 * c / (c + (32 if side == "K" else 16)) * k / (k + 32)


#: The synthetic profile's cost of an operation (per entry, per partial and lane), so that
#: its own costs count as complete and no test measures them by accident.
SYNTHETIC_OPERATIONS = (("operations", 1e-8, 1.2e-8, 1e-10, 2.5e-9),)


def synthetic_profile(key: dict | None = None) -> MachineProfile:
    """A plausible profile for ``key`` (this machine's when None): L1 48 KiB, L2 1 MiB, L3
    32 MiB and DRAM (SYNTHETIC_LEVELS), a 0.3 µs call overhead, GEMM up to 2e10 madd/s."""
    key = machine_key() if key is None else key
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, SYNTHETIC_LEVELS)
    return MachineProfile(
        key=key, created="2000-01-01T00:00:00+00:00", call_overhead_s=3e-7,
        gemm=((16, 2e9), (32, 8e9), (64, 1.5e10), (128, 1.8e10), (256, 2e10), (512, 2e10)),
        stream=tuple((float(s), float(r)) for s, r in zip(sizes, rates)),
        levels=tuple(MemoryLevel(f"L{i + 1}" if cap is not None else "DRAM",
                                 None if cap is None else float(cap), bw)
                     for i, (cap, bw) in enumerate(SYNTHETIC_LEVELS)),
        sysfs_caches={"L1d": 48 * KiB, "L2": 1 * MiB, "L3": 32 * MiB},
        calibration_s=0.0,
        extra={"synthetic": True},
        lanes=tuple((side, k, c, synthetic_lane_rate(side, k, c)) for side in "MKN"
                    for k in (64, 256, 1024) for c in (2, 4, 8, 16, 64, 256)),
        # chainbench's fixed costs for the time model, so no test times them by accident
        overheads=Overheads(2e-6, 5e-8, code=fingerprint(), madd_s=SYNTHETIC_OPERATIONS),
    )
