"""The run loop's executor on a Dask cluster: each point the loop sends is submitted as a
task (``worker.measure_task``) with its series' remaining work as priority, and collected
as it completes. A point whose worker died on every try comes back as a ``failed`` row; a
worker that joined or restarted since the start is checked and recorded in meta.json before
its row is kept."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

from ...provenance import now
from ..experiment.config import ConfigError, Measure, Point
from ..storage.results import ResultsDir
from ..storage.row import Row
from .checks import check_workers, crowding, trimming
from .connection import RETRIES
from .worker import measure_task

#: Seconds a cluster may have no worker at all before the run stops (a worker restarted by
#: its nanny, or started by hand, joins well within it).
NO_WORKER_S = 30.0
#: Seconds between looks at the cluster's workers while waiting for a point; and between
#: checks for a completed point.
LOOK_S, POLL_S = 1.0, 0.05


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
        self._count = len(workers)  # workers seen at the last look
        self._next_look = 0.0  # time.monotonic() of the next look at the workers
        self._since: float | None = None  # since when the cluster has had no worker

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
        worker was lost on every try. A worker that leaves is said on stderr; a cluster
        left without any worker for NO_WORKER_S (its point cannot be retried anywhere)
        ends the run with a ConfigError saying how to continue."""
        from distributed import KilledWorker

        future = self._wait()
        point, predicted = self.in_flight.pop(future)
        try:
            row, info = self._result(future)
            self.admit(info)  # before its row: a worker with other versions is refused
        except KilledWorker as err:
            last = getattr(getattr(err, "last_worker", None), "address", "")
            return point, Row.unmeasured("failed", f"worker lost while measuring, on "
                                         f"{err.allowed_failures + 1} workers (last {last})",
                                         predicted, worker=last, cpu_model="")
        return point, row

    def _wait(self):
        """The next future to complete, watching the workers meanwhile (``_watch``)."""
        while not self.futures.has_ready():
            self._watch()
            time.sleep(POLL_S)
        return next(self.futures)

    def _result(self, future):
        """``future``'s result, watching the workers meanwhile: a point that ended on a
        worker lost before its result was fetched is computed again, or never where no
        worker is left."""
        while True:
            try:
                return future.result(timeout=LOOK_S)
            except TimeoutError:
                self._watch()

    def _watch(self) -> None:
        """Say when workers leave; raise a ConfigError once none has been left for
        NO_WORKER_S. The scheduler retries a point lost with its worker on another one
        (``RETRIES``), but with none left it would wait for one forever, silently."""
        clock = time.monotonic()
        if clock < self._next_look:
            return
        self._next_look = clock + LOOK_S
        count = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        if count < self._count:
            what = "no worker is left" if count == 0 else f"{count} left"
            wait = (f"; waiting up to {NO_WORKER_S:g} s for one to join, which retries the "
                    "points in flight" if count == 0 else
                    "; a point it was measuring is retried on another")
            self._warn(f"{self._count - count} worker(s) left the cluster ({what}){wait}")
        self._count = count
        if count:
            self._since = None
            return
        self._since = self._since or clock
        if clock - self._since >= NO_WORKER_S:
            raise ConfigError(
                f"no worker left on the cluster for {NO_WORKER_S:g} s; the "
                f"{len(self.in_flight)} point(s) in flight have no row: start workers and "
                "continue with --resume")

    def _warn(self, line: str) -> None:
        print(f"chainbench: warning: {line}", file=sys.stderr, flush=True)
        if self.meta is not None:
            self.meta.setdefault("warnings", []).append(f"{now()}: {line}")
            self.results.write_meta(self.meta)

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
