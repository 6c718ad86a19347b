"""The run loop's executor on a Dask cluster: each point the loop sends is submitted as a
task (``worker.measure_task``) with its series' remaining work as priority, and collected
as it completes. A point whose worker died on every try comes back as a ``failed`` row; a
worker that joined or restarted since the start is checked and recorded in meta.json before
its row is kept."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

from ...provenance import now
from ..config import Measure, Point
from ..results import ResultsDir
from ..row import Row
from .checks import check_workers, crowding, trimming
from .connection import RETRIES
from .worker import measure_task


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
