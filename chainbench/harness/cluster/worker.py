"""What runs on a cluster's workers: a worker's description (``worker_info``), its
preparation — Numba and BLAS pinned to the run's threads, the JIT warmed up on tiny untimed
points of every kind the experiment uses, once per process — and the task that measures one
point."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from ...provenance import available_memory, machine, versions
from ..experiment.config import Measure, Point
from ..run.point import warmup_policy
from ..run.threads import set_threads, thread_settings
from ..storage.row import Row
from .connection import require

#: Environment variables that change timings, recorded per worker.
ENVIRON = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
           "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")

_pinned: dict[int, int] = {}  # executor thread id -> the threads pinned on it
_warmed: set[Point] = set()  # warm-up points this process has run (a worker outlives runs)
_warm = {"warm_s": 0.0, "warm_failed": []}  # their seconds, and those that raised
_lock = threading.Lock()


def worker_info(dask_worker=None) -> dict:
    """What a worker measures with: address, CPU, cores, memory, versions, task threads."""
    if dask_worker is None:
        from distributed import get_worker

        dask_worker = get_worker()
    here = machine()
    return {"address": dask_worker.address, "hostname": here["hostname"],
            "cpu_model": here["cpu_model"], "cores": here["cores"],
            "platform": here["platform"], "memory_available": available_memory(),
            "nthreads": dask_worker.state.nthreads,
            "resources": dict(dask_worker.state.total_resources), "versions": versions(),
            "environ": {k: os.environ.get(k) for k in ENVIRON}}


def prepare(threads: int, warmups: list[Point], policy: Measure, measure: Callable) -> dict:
    """Pin this thread's Numba and BLAS threads and warm the JIT, once per process and
    warm-up point (untimed points on tiny chains); returns the thread settings and the
    warm-up's seconds."""
    ident = threading.get_ident()
    with _lock:
        if _pinned.get(ident) != threads:
            _spread_over_cpus(threads)
            set_threads(threads)
            _pinned[ident] = threads
        todo = [p for p in warmups if p not in _warmed]
        if todo:
            start = time.perf_counter()
            quick = warmup_policy(policy)
            for point in todo:
                try:
                    measure(point, quick)
                except Exception as err:  # noqa: BLE001 - the real point fails loudly
                    _warm["warm_failed"].append(f"{point.mode}: {type(err).__name__}: {err}")
                _warmed.add(point)
            _warm["warm_s"] += time.perf_counter() - start
    return {"threads": thread_settings(), **_warm}


def _spread_over_cpus(threads: int) -> None:
    """On a local cluster's k-th worker (Dask names them 0, 1, …), pin peers from CPU
    k·threads on, so that workers do not all take the host's first CPUs."""
    from ... import peers

    try:
        name = require().get_worker().name
    except ValueError:  # not inside a worker
        return
    if isinstance(name, int):
        peers.set_cpu_offset(name * threads)


def warm(threads: int, warmups: list[Point], policy: Measure, measure: Callable) -> dict:
    """Task run once on each worker before any point: prepare() and what it did."""
    return {**worker_info(), **prepare(threads, warmups, policy, measure)}


def measure_task(point: Point, policy: Measure, threads: int, warmups: list[Point],
                 measure: Callable) -> tuple[Row, dict]:
    """Task measuring one point: (its row's measured fields, the worker's info)."""
    state = prepare(threads, warmups, policy, measure)
    row = measure(point, policy)
    info = {**worker_info(), **state}
    row.update(worker=info["address"], cpu_model=info["cpu_model"])
    return row, info
