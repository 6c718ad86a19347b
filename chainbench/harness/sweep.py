"""Run an experiment: points in order of predicted cost within each series, guards that
skip what cannot finish or fit, one row appended to points.csv as each point ends."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import cost
from ..peers import PEERS
from ..peers import versions as peer_versions
from .config import Experiment, Point
from .point import measure_point, resolve
from .provenance import available_memory, git_commit, machine, now, versions
from .results import ResultsDir
from .threads import set_threads

#: Multiply-adds per second assumed before any point of a run has been measured; fast on
#: purpose, so the first guess skips only what is hopeless.
DEFAULT_RATE = 5e9
#: Fraction of available memory a point may plan to use.
MEMORY_SHARE = 0.8


@dataclass
class Guards:
    """Decides which points to skip, learning the machine's speed as points finish."""

    budget_s: float
    rate: float = DEFAULT_RATE  # fastest multiply-adds per second seen so far
    timed_out: dict = field(default_factory=dict)  # series -> smallest madds that overran
    memory: int | None = field(default_factory=available_memory)

    def skip_reason(self, point: Point, predicted: cost.Prediction) -> str | None:
        limit = self.timed_out.get(point.series)
        if limit is not None and predicted.madds >= limit:
            return "a smaller point of this series exceeded the time budget"
        seconds = predicted.madds / self.rate
        if seconds > self.budget_s:
            return (f"predicted {seconds:.3g} s per call ({predicted.madds:.3g} multiply-adds) "
                    f"> budget {self.budget_s:g} s")
        need = planned_bytes(point, predicted)
        if self.memory is not None and need > MEMORY_SHARE * self.memory:
            return (f"needs about {need / 2**30:.3g} GiB, more than {MEMORY_SHARE:.0%} of the "
                    f"{self.memory / 2**30:.3g} GiB available")
        return None

    def learn(self, point: Point, row: dict) -> None:
        if row.get("status") == "ok" and row["time_median_s"] > 0:
            self.rate = max(self.rate, row["madds_counted"] / row["time_median_s"])
        if row["wall_s"] > self.budget_s:
            row["status"] = "timeout"
            row["reason"] = f"point took {row['wall_s']:.3g} s > budget {self.budget_s:g} s"
            prev = self.timed_out.get(point.series, float("inf"))
            self.timed_out[point.series] = min(prev, row.get("madds_predicted") or 0)


def planned_bytes(point: Point, predicted: cost.Prediction) -> int:
    """Engine buffers, the Jacobian, the parameters and the reference check's Jacobian."""
    w = point.widths
    params = sum(a * b + b for a, b in zip(w[:-1], w[1:]))
    return predicted.bytes_held + 8 * (2 * point.n * point.m + params)


def ordered(points: list[Point]) -> list[tuple[Point, cost.Prediction]]:
    """Points with their predictions, cheapest first within each series (grid order of
    series kept), so a timeout can skip the larger sizes that follow it."""
    series: dict[str, list] = {}
    for p in points:
        engine, chunk, snapshots = resolve(p)
        series.setdefault(p.series, []).append((p, cost.predict(p.shape, engine, chunk, snapshots)))
    return [item for group in series.values() for item in sorted(group, key=lambda i: i[1].madds)]


def base_row(exp: Experiment, point: Point, threads: int) -> dict:
    here = machine()
    return {
        "experiment": exp.name, "series": point.series, "n": point.n, "m": point.m,
        "depth": point.depth, "width": point.width, "widths": "-".join(map(str, point.widths)),
        "activation": point.activation, "seed": point.seed, "mode": point.mode,
        "chunk_spec": point.chunk, "snapshots_spec": point.snapshots, "threads": threads,
        "worker": here["hostname"], "cpu_model": here["cpu_model"],
    }


def describe(point: Point) -> str:
    chunk = "" if point.chunk == "default" else f" chunk={point.chunk}"
    snaps = "" if point.snapshots == "default" else f" snapshots={point.snapshots}"
    return f"{point.mode}{chunk}{snaps} n={point.n} m={point.m} depth={point.depth} {point.width}"


def run(exp: Experiment, out: Path, *, resume: bool = False, threads: int = 1,
        progress: Callable | None = None, argv: list[str] | None = None) -> ResultsDir:
    """Run ``exp`` into ``out`` (or a fresh sibling of it); returns the results folder.

    ``progress(done, total, point, row)`` is called after each point.
    """
    points = exp.points()
    results, meta, run_info = start_run(exp, out, resume=resume, argv=argv,
                                        threads=set_threads(threads, pin_affinity=any(
                                            p.mode in PEERS for p in points)),
                                        peer_versions=peer_versions())
    done = results.done_keys()
    next_id = results.next_point_id()
    guards = Guards(exp.measure.budget_s)
    plan = ordered(points)
    for k, (point, predicted) in enumerate(plan):
        if point.key in done:
            if progress:
                progress(k + 1, len(plan), point, None)
            continue
        row = base_row(exp, point, threads)
        reason = guards.skip_reason(point, predicted)
        if reason:
            row.update(unmeasured("skipped", reason, predicted))
        else:
            row.update(measure_point(point, exp.measure))
            guards.learn(point, row)
        row["point"] = next_id
        next_id += 1
        results.append(row)
        if progress:
            progress(k + 1, len(plan), point, row)
    end_run(results, meta, run_info)
    return results


def start_run(exp: Experiment, out: Path, *, resume: bool, argv: list[str] | None,
              **info) -> tuple[ResultsDir, dict, dict]:
    """Open the results folder and append this run's entry (versions, machine, git commit,
    and ``info``'s items) to meta.json; returns (results, meta, the run's entry)."""
    results = ResultsDir.open_for_run(out, resume)
    meta = results.read_meta() or {
        "experiment": exp.name, "description": exp.description, "experiment_file": exp.path,
        "experiment_sha256": exp.sha256, "runs": [],
    }
    if resume and meta.get("experiment_sha256") not in (None, exp.sha256):
        meta.setdefault("warnings", []).append(
            f"{now()}: resumed with an experiment file whose hash differs from the first run")
    run_info = {"started_at": now(), "ended_at": None, "resumed": resume,
                "argv": argv if argv is not None else sys.argv, "versions": versions(),
                "machine": machine(), "git_commit": git_commit(), **info}
    meta["runs"].append(run_info)
    results.write_meta(meta)
    return results, meta, run_info


def end_run(results: ResultsDir, meta: dict, run_info: dict) -> None:
    run_info["ended_at"] = now()
    results.write_meta(meta)


def unmeasured(status: str, reason: str, predicted: cost.Prediction) -> dict:
    """The fields of a row for a point that was not measured (skipped by a guard, or lost
    with its worker): the reason and what the cost model predicted."""
    return {"status": status, "reason": reason, "madds_predicted": predicted.madds,
            "bytes_predicted": predicted.bytes_held, "engine": predicted.mode,
            "chunk": predicted.chunk or "", "wall_s": 0.0, "finished_at": now()}
