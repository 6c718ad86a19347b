"""Run an experiment's points on a Dask cluster: an existing one (``--scheduler``) or a local
one started here (``--local-cluster N``), with the same points.csv and meta.json as a run in
one process. Needs the optional ``cluster`` extra (Dask's ``distributed``).

Honest timings on a cluster:
- each worker measures one point at a time on one thread, with Numba and BLAS pinned to
  ``threads`` threads, and is warmed up (every kernel the experiment uses compiled or loaded
  from the cache) before its first timed point;
- workers must run the same numba and numpy versions, or the run is refused;
- a point whose worker dies is retried once on another worker, then recorded as failed;
- the guards of a sequential run keep their meaning: skips are decided on the client before a
  point is sent, and a series (points that differ only in size) has at most one point in
  flight, its sizes sent cheapest first, so a timeout still skips the larger sizes after it.
  Parallelism is across series, the series with the most predicted work left first. Little
  is lost: where n doubles along a series, its largest point costs more than all the smaller
  ones together (×8 per doubling for a forward-mode gradient, ×4 for reverse), so a series
  takes about its largest point's time whatever the number of workers.

Rows are appended on the client as each point completes, in completion order, so an
interrupted run loses only the points in flight and ``--resume`` works as it does in-process:
the run loop is the in-process one (``loop.sweep``).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from .config import ConfigError, Experiment, Measure, Point
from .guards import Guards
from .loop import ordered, sweep
from .point import measure_point, warmup_points, warmup_policy
from .provenance import available_memory, machine, now, versions
from .results import ResultsDir
from .row import Row
from .threads import set_threads, thread_settings

MISSING = "install the cluster extra: pip install -e '.[cluster]'"
#: Tries after the first on another worker when a worker dies while measuring a point.
RETRIES = 1
#: Versions that must agree on every worker: they decide what the timed code is.
SAME_VERSIONS = ("numba", "numpy")
#: Slot a worker started with `--resources chainbench=1` gives to one point at a time.
RESOURCE = "chainbench"




def require():
    """The ``distributed`` module, or a ConfigError naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(MISSING) from None
    return distributed


#: Where a local cluster listens: this machine only. Its scheduler accepts any task (it
#: runs pickled code) and its dashboard shows the run, so neither is offered to the network
#: unless asked for (``host="0.0.0.0"``, ``dashboard_address=":8787"``).
LOCAL_HOST = "127.0.0.1"
LOCAL_DASHBOARD = f"{LOCAL_HOST}:0"  # a free port, on this machine only


def local_cluster(n: int, host: str = LOCAL_HOST,
                  dashboard_address: str | None = LOCAL_DASHBOARD):
    """A LocalCluster of ``n`` single-threaded worker processes fit for timing (use it in a
    ``with``). Scheduler, workers and dashboard listen on ``host`` and
    ``dashboard_address``: 127.0.0.1 unless the caller asks otherwise (None: no
    dashboard)."""
    distributed = require()
    import dask

    if n < 1:
        raise ConfigError(f"--local-cluster must be ≥ 1, got {n}")
    # No pre-spawn environment: workers inherit this process's, as an in-process run has
    # it. Dask's MALLOC_TRIM_THRESHOLD_ alone made points with large Jacobians up to 3×
    # slower: glibc then maps and unmaps every large buffer again on each call.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        # memory_limit=0: no nanny kills or pauses; the client's memory guard plans instead.
        # Logs silenced: a lost worker is reported in its point's row, and closing the
        # cluster can log harmless heartbeat errors from workers that outlive the scheduler.
        return distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, memory_limit=0, host=host,
            dashboard_address=dashboard_address, silence_logs=logging.CRITICAL,
            scheduler_kwargs={"allowed_failures": RETRIES})


@contextmanager
def connect(scheduler: str | None = None, local_workers: int | None = None):
    """A Client of the cluster at ``scheduler``, or of a local_cluster() started here with
    ``local_workers`` workers (closed on leaving)."""
    distributed = require()
    if (scheduler is None) == (local_workers is None):
        raise ConfigError("give either a scheduler address or a number of local workers")
    if local_workers is not None:
        with local_cluster(local_workers) as cluster, distributed.Client(cluster) as client:
            client.wait_for_workers(local_workers, timeout=120)
            # Ctrl-C reaches the workers too: let the client alone handle it and close them
            client.register_plugin(_ignore_interrupt_plugin())
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError(f"--scheduler {scheduler}: cannot connect: {err}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ConfigError(f"--scheduler {scheduler}: no workers joined in 60 s") from None
        yield client


def allowed_failures(client) -> int:
    """How many times the scheduler retries a point lost with its worker."""
    return client.run_on_scheduler(_allowed_failures)


def _allowed_failures(dask_scheduler=None) -> int:
    return dask_scheduler.allowed_failures


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_interrupt_plugin():
    from distributed import WorkerPlugin

    class IgnoreInterrupt(WorkerPlugin):
        """Local workers (and their restarts) leave SIGINT to the client."""

        def setup(self, worker):
            _ignore_interrupt()

    return IgnoreInterrupt()


# --- on the workers ------------------------------------------------------------------------

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
    from .. import peers

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


# --- on the client -------------------------------------------------------------------------




def check_workers(infos: list[dict]) -> dict | None:
    """Refuse workers whose numba/numpy versions differ, or that could run two points at
    once (ConfigError naming them); returns the resources each point must hold: none when
    every worker has one task thread, one ``chainbench`` slot when every worker has one."""
    seen = {tuple(i["versions"].get(k) for k in SAME_VERSIONS) for i in infos}
    if len(seen) > 1:
        listing = "; ".join(
            f"{i['address']} " + " ".join(f"{k} {i['versions'].get(k)}" for k in SAME_VERSIONS)
            for i in infos)
        raise ConfigError(f"workers differ in {'/'.join(SAME_VERSIONS)} versions ({listing}); "
                          "install the same versions on every worker")
    if all(i["resources"].get(RESOURCE) == 1 for i in infos):
        return {RESOURCE: 1}
    shared = [i["address"] for i in infos if i["nthreads"] > 1]
    if shared:
        raise ConfigError(f"workers {', '.join(shared)} run several task threads, so points "
                          f"would share cores; start every worker with --nthreads 1, or "
                          f"every worker with --resources {RESOURCE}=1")
    return None


def crowding(infos: list[dict]) -> list[str]:
    """Warnings for hosts where points would share a core: more workers than cores, or
    workers pinned (CPU affinity narrower than the host) to overlapping CPUs."""
    hosts: dict[str, list] = {}
    for i in infos:
        hosts.setdefault(i["hostname"], []).append(i)
    out = []
    for host, ws in hosts.items():
        cores = ws[0]["cores"]
        if cores and len(ws) > cores:
            out.append(f"{now()}: host {host} runs {len(ws)} workers on {cores} cores: points "
                       "share cores and timings are not comparable")
        pinned = [(w["address"], set(cpus)) for w in ws
                  if (cpus := (w.get("threads") or {}).get("cpu_affinity")) and cores
                  and len(cpus) < cores]
        for k, (a, cpus_a) in enumerate(pinned):
            for b, cpus_b in pinned[k + 1:]:
                if cpus_a & cpus_b:
                    out.append(f"{now()}: workers {a} and {b} on host {host} are pinned to "
                               f"the same CPUs {sorted(cpus_a & cpus_b)}: their points share "
                               "a core and timings are not comparable")
    return out


def trimming(infos: list[dict]) -> list[str]:
    """A warning when workers run with MALLOC_TRIM_THRESHOLD_ set (Dask's nanny sets it)
    and this process does not: their timings of large Jacobians are not comparable."""
    trim = [i["address"] for i in infos
            if i.get("environ", {}).get("MALLOC_TRIM_THRESHOLD_") is not None]
    if not trim or os.environ.get("MALLOC_TRIM_THRESHOLD_") is not None:
        return []
    return [(f"{now()}: workers {', '.join(trim)} run with MALLOC_TRIM_THRESHOLD_ set, as "
             "Dask's nanny sets it: large buffers are mapped anew on each call, which made "
             "points with large Jacobians up to 3x slower; start workers with --no-nanny, "
             "or with distributed.nanny.pre-spawn-environ set to {} in their Dask config")]


def memory_per_worker(infos: list[dict]) -> int | None:
    """Available memory one point may plan on: the least, over hosts, of the host's
    available memory shared among its workers."""
    hosts: dict[str, list] = {}
    for i in infos:
        hosts.setdefault(i["hostname"], []).append(i)
    shares = [ws[0]["memory_available"] // len(ws) for ws in hosts.values()
              if ws[0]["memory_available"]]
    return min(shares) if shares else None


def common(values):
    """The value every worker has, else a note that they differ."""
    values = list(values)
    return values[0] if all(v == values[0] for v in values) else "differ: see workers"


def run(exp: Experiment, out: Path, *, scheduler: str | None = None,
        local_workers: int | None = None, resume: bool = False, threads: int = 1,
        progress: Callable | None = None, argv: list[str] | None = None,
        measure: Callable = measure_point) -> ResultsDir:
    """Run ``exp`` into ``out`` on a Dask cluster (see ``cluster``'s docstring); returns
    the results folder, as :func:`sweep.run` does.

    ``measure(point, policy) -> Row`` runs on the workers (measure_point by default);
    ``progress(done, total, point, row)`` is called on the client per point.
    """
    if threads < 1:
        raise ConfigError(f"threads must be ≥ 1, got {threads}")
    with connect(scheduler, local_workers) as client:
        infos = describe_workers(client)
        resource = check_workers(infos)
        retries = allowed_failures(client)
        plan = ordered(exp.points())
        warmups = warmup_points([p for p, _ in plan])
        workers = warm_up(client, infos, threads, warmups, exp.measure, measure, resource)
        info = {"threads": common(w["threads"] for w in workers.values()),
                "scheduler": scheduler or f"local cluster of {local_workers} workers",
                "retries_on_lost_worker": retries, "workers": list(workers.values())}
        executor = OnCluster(client, exp.measure, threads, warmups, measure, resource,
                             workers, retries)
        guards = Guards(exp.measure.budget_s, memory=memory_per_worker(infos))
        return sweep(exp, out, executor, guards, threads=threads, resume=resume,
                     progress=progress, argv=argv, plan=plan, info=info)


def describe_workers(client) -> list[dict]:
    """``worker_info`` of every worker; a ConfigError when they cannot run chainbench."""
    try:
        return list(client.run(worker_info).values())
    except Exception as err:  # noqa: BLE001 - e.g. a worker without chainbench
        raise ConfigError(f"workers cannot run chainbench ({type(err).__name__}: {err}); "
                          "install the same chainbench on every worker") from None


def warm_up(client, infos: list[dict], threads: int, warmups: list[Point], policy: Measure,
            measure: Callable, resource: dict | None) -> dict[str, dict]:
    """Pin and warm every worker up (``worker.warm``) before any point; returns each
    worker's info and what its warm-up did, by address."""
    warmed = client.gather([
        client.submit(warm, threads, warmups, policy, measure, pure=False,
                      workers=[i["address"]], allow_other_workers=False, resources=resource)
        for i in infos])
    return {w["address"]: w for w in warmed}


class OnCluster:
    """Points measured on the workers of ``client``, as many at once as the loop sends
    (one per series). ``workers`` maps each warmed-up worker's address to its info."""

    slots = math.inf

    def __init__(self, client, policy: Measure, threads: int, warmups: list[Point],
                 measure: Callable, resource: dict | None, workers: dict, retries: int):
        from distributed import as_completed

        self.client, self.policy, self.threads, self.warmups = client, policy, threads, warmups
        self.measure, self.resource, self.workers, self.retries = (measure, resource, workers,
                                                                   retries)
        self.where = {"worker": "", "cpu_model": ""}  # a skipped point ran nowhere
        self.in_flight: dict = {}  # future -> (point, predicted)
        self.futures = as_completed()
        self.results = self.meta = self.run_info = None

    def start(self, results: ResultsDir, meta: dict, run_info: dict) -> None:
        """Warn, on stderr and in meta.json, of points that would share cores, of workers
        whose large buffers are trimmed, and of a scheduler that does not retry once."""
        self.results, self.meta, self.run_info = results, meta, run_info
        warmed = list(self.workers.values())
        warnings = crowding(warmed) + trimming(warmed)
        if self.retries != RETRIES:
            warnings.append(f"{now()}: the scheduler retries a point lost with its worker "
                            f"{self.retries} times, not {RETRIES} (start it with "
                            f"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES={RETRIES})")
        if warnings:
            meta.setdefault("warnings", []).extend(warnings)
            results.write_meta(meta)
            for line in warnings:
                print(f"chainbench: warning: {line}", file=sys.stderr)

    def submit(self, point: Point, predicted, priority: int) -> None:
        future = self.client.submit(measure_task, point, self.policy, self.threads,
                                    self.warmups, self.measure, pure=False,
                                    resources=self.resource, priority=priority)
        self.in_flight[future] = (point, predicted)
        self.futures.add(future)

    def next(self) -> tuple[Point, Row]:
        """The next point to complete, with its measured row, or a ``failed`` one when its
        worker was lost on every try."""
        from distributed import KilledWorker

        future = next(self.futures)
        point, predicted = self.in_flight.pop(future)
        try:
            row, info = future.result()
            self.admit(info)  # before its row: a worker with other versions is refused
        except KilledWorker as err:
            last = getattr(getattr(err, "last_worker", None), "address", "")
            return point, Row.unmeasured("failed", f"worker lost while measuring, on "
                                         f"{err.allowed_failures + 1} workers (last {last})",
                                         predicted, worker=last, cpu_model="")
        return point, row

    def admit(self, info: dict) -> None:
        """A worker that joined (or was restarted) since the start: checked, recorded."""
        if info["address"] not in self.workers:
            check_workers([*self.workers.values(), info])
            self.workers[info["address"]] = info
            self.run_info["workers"] = list(self.workers.values())
            self.results.write_meta(self.meta)

    def cancel(self) -> None:
        for future in self.in_flight:
            future.cancel()
