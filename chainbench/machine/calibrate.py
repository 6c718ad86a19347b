"""Measure this machine with one thread: what a jitted call costs from Python, how fast dense
products run by size, and how fast a matrix-vector product streams its matrix by working
set, from which the levels of the memory hierarchy are found (``levels.detect_levels``).

    from chainbench.machine.calibrate import calibrate
    profile = calibrate()              # ~5 s on one core; quick=True: ~1 s, fewer sizes

Every figure is the best of a few samples: other processes on the machine only add time.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .._jit import kernel
from .curves import measure_curves
from .levels import detect_levels, name_after_caches
from .profile import MachineProfile, machine_key

#: Smallest and largest working set of the streaming measurement (bytes of W).
STREAM_MIN = 8 * 2**10
STREAM_MAX = 256 * 2**20
GEMM_K = (16, 32, 64, 128, 256, 512)
GEMM_K_QUICK = (16, 64, 256)
#: Skinny products, k·k·c multiply-adds with one side c small: the output's rows ('M',
#: reverse mode's rows through a layer), the inner size ('K', a narrow layer's lanes) or the
#: output's columns ('N', forward mode's lanes). BLAS runs each far below its square rate,
#: and differently (OpenBLAS here: c = 2 at a seventh of c = 256).
LANES_SIDES = ("M", "K", "N")
LANES_K = (64, 256, 1024)
LANES_C = (2, 4, 8, 16, 64, 256)
LANES_K_QUICK = (64, 512)
LANES_C_QUICK = (2, 32)


@kernel
def _first(x):
    """The trivial kernel whose call from Python is the per-call overhead: x[0]."""
    return x[0]


@kernel
def _gemm(a, b, out, reps):
    """out = a b, ``reps`` times (BLAS dgemm, called from jitted code as the engines do)."""
    for _ in range(reps):
        np.dot(a, b, out)


@kernel
def _gemv(w, x, y, reps):
    """y = W x, ``reps`` times over the same W (BLAS dgemv), so W stays in cache if it fits."""
    for _ in range(reps):
        np.dot(w, x, y)


class _Plan:
    """How much to measure: sizes, samples, the length of one sample and the passes."""

    def __init__(self, quick: bool, max_bytes: float):
        step = 2.0 if quick else 2.0**0.5
        count = int(np.floor(np.log(max_bytes / STREAM_MIN) / np.log(step) + 1e-9)) + 1
        self.stream_sizes = [STREAM_MIN * step**i for i in range(count)]
        self.gemm_k = GEMM_K_QUICK if quick else GEMM_K
        self.lanes = (LANES_K_QUICK, LANES_C_QUICK) if quick else (LANES_K, LANES_C)
        self.sample_s = 0.002 if quick else 0.005
        self.samples = 3 if quick else 5
        # passes over everything, seconds apart: a burst of load from another process has to
        # hit the same figure in every pass to show (and cannot fake a sustained drop)
        self.passes = 1 if quick else 3
        self.overhead_batches = 20  # of 200 calls each, per pass


class _Tally:
    """How many timed samples were taken and how many of them another process interrupted."""

    samples = 0
    preempted = 0


def _best_seconds(run, reps_for_sample: int, samples: int, tally: _Tally | None = None) -> float:
    """Least seconds per repetition over ``samples`` uninterrupted calls of ``run(reps)``.

    A sample whose thread ran for less than 95 % of its wall time was preempted by another
    process (the OS says so: thread CPU time) and does not count; after 3 × ``samples``
    tries the least of all of them is taken.
    """
    best = fallback = float("inf")
    clean = tries = 0
    while clean < samples and tries < 3 * samples:
        tries += 1
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        run(reps_for_sample)
        wall, cpu = time.perf_counter_ns() - t0, time.thread_time_ns() - c0
        fallback = min(fallback, wall / reps_for_sample)
        if cpu >= 0.95 * wall:
            clean += 1
            best = min(best, wall / reps_for_sample)
    if tally is not None:
        tally.samples += tries
        tally.preempted += tries - clean
    return (best if clean else fallback) * 1e-9


def _reps(run, sample_s: float) -> int:
    """Repetitions that make one sample last at least ``sample_s``, from one timed call after
    a warm-up call (the first call of a kernel compiles it or loads it from the cache)."""
    run(1)
    t0 = time.perf_counter_ns()
    run(1)
    once = max((time.perf_counter_ns() - t0) * 1e-9, 1e-9)
    return max(1, int(np.ceil(sample_s / once)))


def _overhead_samples(batches: int, calls: int) -> list[float]:
    """Seconds per call of ``_first`` from a Python loop, one figure per batch of calls."""
    x = np.zeros(8)
    _first(x)
    per_call = []
    for _ in range(batches):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            _first(x)
        per_call.append((time.perf_counter_ns() - t0) * 1e-9 / calls)
    return per_call


def _dims(side: str, k: int, c: int) -> tuple[int, int, int]:
    """(M, K, N) of the product with ``side`` of size c and the other two k."""
    return tuple(c if s == side else k for s in LANES_SIDES)


class _Gemm:
    """(M×K) @ (K×N) products into preallocated outputs, k×k×k ones for ``ks`` or, given
    ``lanes``, each side of ``LANES_SIDES`` at c ∈ ``lanes`` with the others k ∈ ``ks``;
    ``measure()`` runs one pass over every shape."""

    def __init__(self, ks, lanes=None):
        rng = np.random.default_rng(0)
        self.shapes = [("", k, k) for k in ks] if lanes is None else \
            [(side, k, c) for side in LANES_SIDES for k in ks for c in lanes]
        self.operands = []
        for side, k, c in self.shapes:
            M, K, N = _dims(side, k, c) if side else (k, k, k)
            self.operands.append((rng.standard_normal((M, K)), rng.standard_normal((K, N)),
                                  np.empty((M, N))))
        self.best = [float("inf")] * len(self.shapes)

    def measure(self, sample_s: float, samples: int, tally: _Tally | None = None) -> None:
        for i, (a, b, c) in enumerate(self.operands):
            def run(reps, a=a, b=b, c=c):
                _gemm(a, b, c, reps)

            seconds = _best_seconds(run, _reps(run, sample_s), samples, tally)
            self.best[i] = min(self.best[i], seconds)

    def rates(self) -> list[tuple[int, float]]:
        """(k, multiply-adds per second) of the square products."""
        return [(k, rate) for _, k, _, rate in self.lane_rates()]

    def lane_rates(self) -> list[tuple[str, int, int, float]]:
        """(small side, k, c, multiply-adds per second = k²c / seconds) of every product."""
        return [(side, int(k), int(c), float(k) ** 2 * c / s)
                for (side, k, c), s in zip(self.shapes, self.best)]


def _shape(nbytes: float) -> tuple[int, int]:
    """Rows and columns of a near-square float64 matrix of about ``nbytes``."""
    elements = max(int(nbytes // 8), 1)
    cols = max(int(round(np.sqrt(elements))), 1)
    return max(elements // cols, 1), cols


class _Stream:
    """y = W x for every working set: one buffer of the largest size, allocated and touched
    once; each W is a contiguous prefix of it, so no size pays for page faults."""

    def __init__(self, sizes):
        self.shapes = [_shape(s) for s in sizes]
        self.buffer = np.empty(max(m * n for m, n in self.shapes))
        self.buffer.fill(0.5)  # touch every page before timing
        self.x = np.full(max(n for _, n in self.shapes), 0.25)
        self.y = np.empty(max(m for m, _ in self.shapes))
        self.best = [float("inf")] * len(self.shapes)

    def measure(self, sample_s: float, samples: int, tally: _Tally | None = None) -> None:
        for i, (m, n) in enumerate(self.shapes):
            w, xs, ys = self.buffer[: m * n].reshape(m, n), self.x[:n], self.y[:m]

            def run(reps, w=w, xs=xs, ys=ys):
                _gemv(w, xs, ys, reps)

            seconds = _best_seconds(run, _reps(run, sample_s), samples, tally)
            self.best[i] = min(self.best[i], seconds)

    def rates(self) -> list[tuple[float, float]]:
        return [(8.0 * m * n, 8.0 * m * n / s) for (m, n), s in zip(self.shapes, self.best)]


def _load_average() -> float | None:
    """Runnable processes, averaged over the last minute (None where the OS does not say)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _stream_limit() -> float:
    """The largest working set to stream: STREAM_MAX, or a quarter of available memory."""
    from ..provenance import available_memory

    available = available_memory()
    return STREAM_MAX if available is None else max(min(STREAM_MAX, available / 4), 2**24)


def calibrate(key: dict | None = None, quick: bool = False) -> MachineProfile:
    """Measure this machine with one thread (Numba and every BLAS) and return its profile.

    Parameters
    ----------
    key : dict, optional
        What the profile is valid for (``profile.machine_key()`` when None).
    quick : bool
        Fewer sizes (2× steps instead of √2, k in 16, 64, 256), samples and passes: about a
        second, for tests.

    Returns
    -------
    MachineProfile
        Call overhead (seconds, the least per-call figure over batches of calls; the median
        is in ``extra``), GEMM rate per k (multiply-adds per second), streaming rate per
        working set (bytes per second), the memory levels found in it, the sysfs cache sizes
        beside, and how long the calibration took (JIT compile of its kernels included).
    """
    import numba
    import scipy.linalg.cython_blas  # noqa: F401  (numba's BLAS: loaded so the limit covers it)
    from threadpoolctl import threadpool_limits

    from ..provenance import cache_sizes, now

    t0 = time.perf_counter()
    load = [_load_average()]
    key = machine_key() if key is None else key
    plan = _Plan(quick, _stream_limit())
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    tally = _Tally()
    try:
        with threadpool_limits(limits=1):
            overhead, gemm, stream = [], _Gemm(plan.gemm_k), _Stream(plan.stream_sizes)
            lanes = _Gemm(*plan.lanes)
            for _ in range(plan.passes):
                overhead += _overhead_samples(plan.overhead_batches, 200)
                gemm.measure(plan.sample_s, plan.samples, tally)
                lanes.measure(plan.sample_s, plan.samples, tally)
                stream.measure(plan.sample_s, plan.samples, tally)
            del stream.buffer
            curves = measure_curves(quick)  # the passes plans run, at their sizes
    finally:
        numba.set_num_threads(threads)
    load.append(_load_average())
    sizes, rates = zip(*stream.rates())
    return MachineProfile(
        key=key, created=now(), call_overhead_s=float(np.min(overhead)),
        gemm=tuple(gemm.rates()), stream=tuple(stream.rates()), lanes=tuple(lanes.lane_rates()),
        curves=curves,
        levels=name_after_caches(detect_levels(sizes, rates), cache_sizes()),
        sysfs_caches=cache_sizes(),
        calibration_s=time.perf_counter() - t0,
        extra={"quick": quick, "threads": 1, "call_overhead_median_s": float(np.median(overhead)),
               "samples": plan.samples, "passes": plan.passes, "sample_s": plan.sample_s,
               # how busy the machine was: other processes slow every figure down
               "preempted_fraction": tally.preempted / max(tally.samples, 1),
               "load_average": load},
    )
