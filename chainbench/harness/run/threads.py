"""Thread settings for honest timings: Numba and BLAS pinned to N threads (and, when peer
AD tools run, the process's CPU affinity and PyTorch's threads), and recorded."""

from __future__ import annotations

import os

import numba
from threadpoolctl import threadpool_info, threadpool_limits

from ... import peers
from ...errors import ConfigError

_limits = None  # keeps the threadpoolctl limit alive for the process


def set_threads(n: int, pin_affinity: bool = False) -> dict:
    """Pin Numba's and every BLAS library's threads to ``n``, the peers' too (see
    ``peers.limit_threads``; ``pin_affinity`` restricts the process to n CPUs now, as a sweep
    with peer modes does, else when a peer is first prepared); return what is in force."""
    global _limits
    if n < 1:
        raise ValueError(f"threads must be ≥ 1, got {n}")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    # numba's np.dot calls scipy's BLAS, a library apart from numpy's; load it now so the
    # limit below covers it (threadpoolctl only limits libraries already loaded)
    import scipy.linalg.cython_blas  # noqa: F401

    _limits = threadpool_limits(limits=n)
    peers.limit_threads(n, pin_affinity)
    return thread_settings()


def thread_settings() -> dict:
    return {
        **peers.thread_settings(),
        "numba_threads": numba.get_num_threads(),
        "blas": [
            {"library": p.get("internal_api"), "version": p.get("version"),
             "threads": p.get("num_threads")}
            for p in threadpool_info()
        ],
    }


def check_threads(threads, cpus: int | None = None) -> int:
    """``threads`` for a sweep on this machine: an integer from 1 to the CPUs this process
    may use (and Numba's thread pool holds), else a ConfigError. More threads than cores
    would time the contention, not the engines, and Numba would silently use fewer than
    recorded. Not for ``--scheduler`` runs, whose workers run elsewhere."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"--threads must be ≥ 1 (an integer), got {threads!r}")
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
    pool = numba.config.NUMBA_NUM_THREADS
    if threads > min(cpus, pool):
        why = (f"this process may use {cpus} CPUs" if cpus <= pool
               else f"Numba's thread pool holds {pool} (NUMBA_NUM_THREADS)")
        raise ConfigError(f"--threads {threads}: {why}; give --threads 1 to "
                          f"{min(cpus, pool)} (more threads than cores time the contention, "
                          "not the engines)")
    return threads
