"""The run loop of a sweep, the same in this process and on a Dask cluster: points go out
cheapest first within each series, the guards decide before a point is sent whether it is
skipped, a series never has more than one point in flight, and a row is appended to
points.csv as each point ends, in the order they end, so an interrupted run loses only the
points in flight and ``--resume`` skips the points that have a row. The run's entry in
meta.json is opened before and closed after, with the tally (``runs``).

How a point is measured is an ``Executor``'s business: ``sweep.InProcess`` measures one at
a time in this process, warming each kind of point up before its first point;
``cluster.executor.OnCluster`` sends them to a cluster's workers, where the series with the
most predicted work left goes first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ...cost.predictions import Prediction
from ...errors import TooLarge
from ...provenance import now
from ..experiment.config import Experiment, Point
from ..storage.results import ResultsDir
from ..storage.row import Row
from .guards import Guards
from .point import predict
from .reporter import Reporter
from .runs import owned, start_run


class Executor(Protocol):
    """Measures the points the loop sends it, and hands back their rows as they end."""

    #: Points in flight at most: 1 in this process; a cluster takes one per series.
    slots: float
    #: ``worker`` and ``cpu_model`` of the row of a point the guards skip.
    where: dict[str, str]

    def start(self, results: ResultsDir, meta: dict, run_info: dict) -> None:
        """The run's entry in meta.json is open: record in it what the executor knows."""

    def submit(self, point: Point, predicted: Prediction, priority: int) -> None:
        """Measure ``point``; ``priority`` is the multiply-adds its series has left."""

    def next(self) -> tuple[Point, Row]:
        """Wait for a point sent to end: the point, and its row's measured columns."""

    def cancel(self) -> None:
        """Drop the points in flight: the run ends early."""


def ordered(points: list[Point], guards: Guards | None = None
            ) -> list[tuple[Point, Prediction | str]]:
    """Points with their predictions, cheapest first within each series (grid order of
    series kept), so a timeout can skip the larger sizes that follow it. A point too large
    to be predicted — resolving 'auto' and the sparse modes colors J, in memory in
    proportion to n — gets the reason instead (``Guards.plan_reason``, and
    ``point.resolve``'s TooLarge for this process), and comes last in its series."""
    series: dict[str, list] = {}
    for p in points:
        try:
            if guards is not None and (reason := guards.plan_reason(p)):
                raise TooLarge(reason)
            item = (p, predict(p))
        except TooLarge as err:
            item = (p, str(err))
        series.setdefault(p.series, []).append(item)
    return [item for group in series.values() for item in sorted(group, key=_cost)]


def _cost(item: tuple[Point, Prediction | str]) -> tuple[bool, int]:
    unpredicted = isinstance(item[1], str)
    return unpredicted, 0 if unpredicted else item[1].madds


def sweep(exp: Experiment, out: Path, executor: Executor, guards: Guards, *, threads: int,
          resume: bool = False, progress: Callable | None = None,
          argv: list[str] | None = None, plan: list | None = None,
          info: dict | None = None) -> ResultsDir:
    """Run ``exp`` into ``out`` (or a fresh sibling of it) with ``executor``; returns the
    results folder.

    ``threads`` goes into each row; ``info``'s items into the run's entry in meta.json;
    ``plan`` is ``ordered(exp.points())`` unless given; ``progress`` is told of each point
    (a ``Reporter``, or a plain callable for the points done alone).
    """
    results, meta, run_info = start_run(exp, out, resume=resume, argv=argv, **(info or {}))
    with owned(results, meta, run_info):
        executor.start(results, meta, run_info)
        plan = ordered(exp.points(), guards) if plan is None else plan
        _Loop(exp.name, results, executor, guards, plan, threads, progress).run()
    return results


class _Loop:
    """One queue of points per series, in grid order; at most one point of a series in
    flight, and no more in flight than the executor has slots; rows appended as they end."""

    def __init__(self, experiment: str, results: ResultsDir, executor: Executor,
                 guards: Guards, plan: list, threads: int, progress: Callable | None):
        self.experiment, self.results, self.executor = experiment, results, executor
        if not isinstance(progress, Reporter):  # None or a plain callable
            progress = Reporter(progress)
        self.guards, self.threads, self.progress, self.total = guards, threads, progress, len(plan)
        self.done_keys, self.next_id, self.count = results.done_keys(), results.next_point_id(), 0
        self.queues: dict[str, deque] = {}
        for point, predicted in plan:
            self.queues.setdefault(point.series, deque()).append((point, predicted))
        self.busy: set[str] = set()  # series with a point in flight

    def run(self) -> None:
        try:
            self.feed()
            while self.busy:
                point, row = self.executor.next()
                self.busy.discard(point.series)
                self.guards.learn(point, row)
                self.append(point, row)
                self.feed()
        finally:
            self.executor.cancel()

    def feed(self) -> None:
        """Send the next point of each series that has none in flight, in grid order of
        series, while the executor has a free slot."""
        for series, queue in self.queues.items():
            if len(self.busy) >= self.executor.slots:
                return
            if series not in self.busy and self.send_next(queue):
                self.busy.add(series)

    def send_next(self, queue: deque) -> bool:
        """Send the series' next point that needs measuring, recording on the way the points
        done in an earlier run and those the guards skip; False when none is left."""
        while queue:
            point, predicted = queue.popleft()
            if point.key in self.done_keys:
                self.report(point, None)
                continue
            if isinstance(predicted, str):  # too large to predict: the reason, no counts
                self.append(point, Row(status="skipped", reason=predicted, wall_s=0.0,
                                       finished_at=now(), **self.executor.where))
                continue
            reason = self.guards.skip_reason(point, predicted)
            if reason:
                self.append(point, Row.unmeasured("skipped", reason, predicted,
                                                  **self.executor.where))
                continue
            # the series with the most work left goes first: it decides the run's end
            left = predicted.madds + sum(p.madds for _, p in queue if not isinstance(p, str))
            self.progress.started(point)
            self.executor.submit(point, predicted, int(min(left, 2**62)))
            return True
        return False

    def append(self, point: Point, row: Row) -> None:
        row.identify(point, self.experiment, self.threads).update(point=self.next_id)
        self.next_id += 1
        self.results.append(row)
        self.report(point, row)

    def report(self, point: Point, row: Row | None) -> None:
        self.count += 1
        self.progress(self.count, self.total, point, row)
