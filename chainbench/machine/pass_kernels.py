"""The kernels of the passes that need no chain, timed alone at their sizes: a block
product through the BLAS call the engines make (``np.dot`` from jitted code), a copy, a
fill, a fresh buffer's first touch; and the timing rule every pass is read by
(``median_seconds``). ``cost.pass_timing`` adds the layers' rules; calibration measures its
curves with these, so calibration and ``explain`` time the same code.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from .._jit import kernel

#: The least length of one timed sample, and how many samples a figure is the median of.
SAMPLE_S = 1e-3
SAMPLES = 5


@contextmanager
def one_thread():
    """Numba and every BLAS library (numpy's, and scipy's that Numba's ``np.dot`` calls) on
    one thread, as the profile measures; restored afterwards."""
    import numba
    import scipy.linalg.cython_blas  # noqa: F401  (loaded so the limit covers it)
    from threadpoolctl import threadpool_limits

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(threads)


@kernel
def _product(a_set, b_set, out, reps):
    """out = a @ b (BLAS, called from jitted code as the engines call it), run r reading
    copy r mod their number of a and b."""
    for r in range(reps):
        np.dot(a_set[r % a_set.shape[0]], b_set[r % b_set.shape[0]], out)


@kernel
def _copy(src, dst, reps):
    # each run's result read back, so the compiler cannot drop the runs before the last
    total = 0.0
    for r in range(reps):
        dst[:] = src
        total += dst[r % dst.size]
    return total


@kernel
def _fill(a, reps):
    total = 0.0
    for r in range(reps):
        a[:] = r
        total += a[r % a.size]
    return total


@kernel
def _alloc(entries, reps):
    """A fresh buffer, each of its pages written once (faulted in), then freed."""
    total = 0.0
    for _ in range(reps):
        a = np.empty(entries)
        a[::512] = 1.0
        total += a[0]
    return total


@kernel
def _touch(a):
    """Each page of a fresh buffer written once (faulted in)."""
    a[::512] = 1.0
    return a[0]


def _alloc_numpy(entries, reps):
    """A fresh buffer from numpy, as an engine's caller allocates a tape (numpy asks Linux
    for huge pages for a large one), each page written once, then freed."""
    total = 0.0
    for _ in range(reps):
        total += _touch(np.empty(entries))
    return total


def median_seconds(run, sample_s: float = SAMPLE_S, samples: int = SAMPLES) -> float:
    """Seconds of one ``run(reps)`` repetition: reps grown until a sample takes
    ``sample_s``, then the median of ``samples`` samples (time.perf_counter)."""
    run(1)  # compiled (or loaded), buffers warm
    reps = 1
    while True:
        start = time.perf_counter()
        run(reps)
        took = time.perf_counter() - start
        if took >= sample_s or reps >= 2**24:
            break
        reps = min(2**24, reps * max(2, int(2 * sample_s / max(took, 1e-9))))
    times = [took / reps]
    for _ in range(samples - 1):
        start = time.perf_counter()
        run(reps)
        times.append((time.perf_counter() - start) / reps)
    return float(np.median(times))


def best_seconds(call, budget_s: float, samples: int = 3) -> float:
    """Seconds of one ``call()`` of a whole computation (a bound call): after two untimed
    calls (compiling or loading it, touching its buffers), the best of ``samples`` samples
    of as many calls as fill ``budget_s / samples``. The measuring planner and the time
    model's error measurement read a call by it."""
    call()
    start = time.perf_counter()
    call()
    reps = max(1, int(budget_s / samples / max(time.perf_counter() - start, 1e-7)))
    return best_of(call, reps, samples)


def best_of(call, reps: int, samples: int) -> float:
    """Seconds of one ``call()``: the best of ``samples`` samples of ``reps`` calls."""
    best = float("inf")
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(reps):
            call()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def time_product(dims: tuple[int, int, int], copies: int = 1) -> float:
    """Seconds of one (M×K) @ (K×N) product, ``dims`` = (M, K, N), its operands read from
    ``copies`` copies in turn (enough to outgrow the caches: read from memory)."""
    m, k, n = dims
    rng = np.random.default_rng(0)
    a, b, out = rng.standard_normal((m, k)), rng.standard_normal((k, n)), np.empty((m, n))
    a, b = np.repeat(a[None], copies, axis=0), np.repeat(b[None], copies, axis=0)
    return median_seconds(lambda reps: _product(a, b, out, reps))


def time_copy(entries: int) -> float:
    src, dst = np.ones(max(entries, 1)), np.zeros(max(entries, 1))
    return median_seconds(lambda reps: _copy(src, dst, reps))


def time_fill(entries: int) -> float:
    a = np.ones(max(entries, 1))
    return median_seconds(lambda reps: _fill(a, reps))


def time_alloc(nbytes: int) -> float:
    entries = max(int(nbytes) // 8, 1)
    return median_seconds(lambda reps: _alloc(entries, reps))


def time_alloc_numpy(nbytes: int) -> float:
    entries = max(int(nbytes) // 8, 1)
    return median_seconds(lambda reps: _alloc_numpy(entries, reps))
