"""Run an experiment: points in order of predicted cost within each series, guards that
skip what cannot finish or fit, one row appended to points.csv as each point ends.

Each kind of point is warmed up before its first point in a process (``point.warm_up``):
the one-time JIT compile (or Numba cache load) is timed there, announced, recorded in the
first point's ``compile_s`` and never charged to a point's time budget. The run's entry in
meta.json records the machine profile it used and, at the end, the tally of its points.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import cost
from ..engines import ENGINES
from ..machine.profile import current_profile
from ..peers import PEERS
from ..peers import versions as peer_versions
from . import memory, timing
from .config import Experiment, Point
from .point import measure_point, resolve, warm_up
from .provenance import available_memory, git_commit, machine, now, versions
from .results import ResultsDir
from .row import Row
from .threads import set_threads

#: Fraction of available memory a point may plan to use.
MEMORY_SHARE = 0.8


def initial_rate() -> float:
    """Multiply-adds per second assumed before any point of a run has been measured: the
    machine profile's fastest GEMM rate, so the first guess skips only what is hopeless."""
    return current_profile().peak_madds_per_s


@dataclass
class Guards:
    """Decides which points to skip, learning the machine's speed as points finish."""

    budget_s: float
    rate: float = field(default_factory=initial_rate)  # fastest multiply-adds per second seen
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

    def learn(self, point: Point, row: Row) -> None:
        """Take the speed of a measured point in; mark it 'timeout' when measuring it took
        longer than the budget, its compile time (``compile_s``) not counted."""
        if row.status == "ok" and row.time_median_s > 0:
            self.rate = max(self.rate, row.madds_counted / row.time_median_s)
        charged = row.wall_s - (row.compile_s or 0.0)
        if charged > self.budget_s:
            row.status = "timeout"
            row.reason = (f"measuring took {charged:.3g} s > budget {self.budget_s:g} s "
                          f"(compile not counted)")
            prev = self.timed_out.get(point.series, float("inf"))
            self.timed_out[point.series] = min(prev, row.madds_predicted or 0)


def planned_bytes(point: Point, predicted: cost.Prediction) -> int:
    """What measuring ``point`` holds at its peak (``memory.planned_bytes``)."""
    return memory.planned_bytes(point.shape, predicted.bytes_held, point.m)


def ordered(points: list[Point]) -> list[tuple[Point, cost.Prediction]]:
    """Points with their predictions, cheapest first within each series (grid order of
    series kept), so a timeout can skip the larger sizes that follow it."""
    series: dict[str, list] = {}
    for p in points:
        engine, chunk, snapshots = resolve(p)
        series.setdefault(p.series, []).append((p, cost.predict(p.shape, engine, chunk, snapshots)))
    return [item for group in series.values() for item in sorted(group, key=lambda i: i[1].madds)]


def here() -> dict[str, str]:
    """``worker`` and ``cpu_model`` of a row measured in this process."""
    info = machine()
    return {"worker": info["hostname"], "cpu_model": info["cpu_model"]}


def describe(point: Point) -> str:
    chunk = "" if point.chunk == "default" else f" chunk={point.chunk}"
    snaps = "" if point.snapshots == "default" else f" snapshots={point.snapshots}"
    return f"{point.mode}{chunk}{snaps} n={point.n} m={point.m} depth={point.depth} {point.width}"


def run(exp: Experiment, out: Path, *, resume: bool = False, threads: int = 1,
        progress: Callable | None = None, announce: Callable | None = None,
        argv: list[str] | None = None) -> ResultsDir:
    """Run ``exp`` into ``out`` (or a fresh sibling of it); returns the results folder.

    ``progress(done, total, point, row)`` is called after each point; ``announce(text)``
    is told what takes time outside the points, before and after it: calibrating the
    machine on first use, compiling each engine's kernels on its first use in the process.
    """
    points = exp.points()
    profile = machine_profile(announce)
    results, meta, run_info = start_run(exp, out, resume=resume, argv=argv,
                                        threads=set_threads(threads, pin_affinity=any(
                                            p.mode in PEERS for p in points)),
                                        peer_versions=peer_versions(), profile=profile.to_dict())
    with owned(results, meta, run_info):
        done = results.done_keys()
        next_id = results.next_point_id()
        guards = Guards(exp.measure.budget_s, rate=profile.peak_madds_per_s)
        plan = ordered(points)
        for k, (point, predicted) in enumerate(plan):
            if point.key in done:
                if progress:
                    progress(k + 1, len(plan), point, None)
                continue
            reason = guards.skip_reason(point, predicted)
            if reason:
                row = Row.unmeasured("skipped", reason, predicted)
            else:
                compile_s = prepare(point, exp.measure, announce, run_info)
                row = measure_point(point, exp.measure)
                if compile_s:  # the kind's one-time warm-up belongs to its first point
                    row.compile_s = (row.compile_s or 0.0) + compile_s
                    row.wall_s = (row.wall_s or 0.0) + compile_s
                guards.learn(point, row)
            row.identify(point, exp.name, threads).update(point=next_id, **here())
            next_id += 1
            results.append(row)
            if progress:
                progress(k + 1, len(plan), point, row)
    return results


def machine_profile(announce: Callable | None = None):
    """This machine's profile (``current_profile``), calibrated now on first use: then
    ``announce`` is told before and after."""
    told = []

    def before(text: str) -> None:
        told.append(text)
        if announce:
            announce(text)

    profile = current_profile(announce=before)
    if told and announce:
        announce(f"machine calibrated in {_seconds(profile.calibration_s)} "
                 "(cached for later runs)")
    return profile


#: Kinds of point (mode, chunk, snapshots, activation) warmed up in this process, and how
#: each engine's first use went (timing.COMPILED or LOADED).
_WARM: set[tuple] = set()
_ENGINES_READY: dict[str, str] = {}


def engine_label(engine: str) -> str:
    return f"{engine}-mode kernels" if engine in ("forward", "reverse") else f"{engine} kernels"


def prepare(point: Point, policy, announce: Callable | None = None,
            run_info: dict | None = None) -> float:
    """Warm up ``point``'s kind before its first point in this process; returns the seconds
    that took (0.0 when it was warm already). An engine's first use is announced before it
    ('compiling forward-mode kernels (first use, about 6 s) …', estimated from the times
    recorded on this machine) and after it, and recorded there and in ``run_info``."""
    if point.kind in _WARM:
        return 0.0
    engine = resolve(point)[0]
    first = engine not in _ENGINES_READY
    if first and announce:
        announce(_before(engine))
    compiles = timing.jit_compiles()
    start = time.perf_counter()
    warm_up(point, policy)
    seconds = time.perf_counter() - start
    _WARM.add(point.kind)
    if first:
        how = timing.COMPILED if timing.jit_compiles() > compiles else timing.LOADED
        _ENGINES_READY[engine] = how
        timing.record_compile_s(engine, how, seconds)
        if run_info is not None:
            run_info.setdefault("compile", {})[engine] = {"seconds": round(seconds, 3),
                                                         "how": how}
        if announce:
            verb = "compiled" if how == timing.COMPILED else "loaded from Numba's cache"
            announce(f"{engine_label(engine)} {verb} in {_seconds(seconds)}")
    return seconds


def _before(engine: str) -> str:
    """The line said before an engine's first use: what happens and about how long. Whether
    Numba's cache will serve it is guessed from how the engine before it went (a cold cache
    is cold for all), else from the cache's files."""
    seen = list(_ENGINES_READY.values())
    cached = seen[-1] == timing.LOADED if seen else timing.kernels_cached(ENGINES.get(engine))
    known = timing.recorded_compile_s().get(engine, {})
    if cached:
        seconds = known.get(timing.LOADED)
        what = f"loading {engine_label(engine)} from Numba's cache"
    else:
        seconds = known.get(timing.COMPILED)
        what = f"compiling {engine_label(engine)}"
    about = f"about {_seconds(seconds)}" if seconds is not None else "timing it"
    return f"{what} (first use, {about}) …"


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.2g} s"


def start_run(exp: Experiment, out: Path, *, resume: bool, argv: list[str] | None,
              **info) -> tuple[ResultsDir, dict, dict]:
    """Open the results folder and append this run's entry (versions, machine, git commit,
    and ``info``'s items) to meta.json; returns (results, meta, the run's entry)."""
    results = ResultsDir.open_for_run(out, resume, experiment=exp.name)
    try:
        return _open_entry(results, exp, resume, argv, info)
    except BaseException:
        results.release()
        raise


def _open_entry(results: ResultsDir, exp: Experiment, resume: bool, argv, info: dict):
    meta = results.read_meta() or {
        "experiment": exp.name, "description": exp.description, "experiment_file": exp.path,
        "experiment_sha256": exp.sha256, "runs": [],
    }
    if resume and meta.get("experiment_sha256") not in (None, exp.sha256):
        meta.setdefault("warnings", []).append(
            f"{now()}: resumed with an experiment file whose hash differs from the first run")
    info.setdefault("profile", current_profile().to_dict())
    run_info = {"started_at": now(), "ended_at": None, "resumed": resume,
                "argv": argv if argv is not None else sys.argv, "versions": versions(),
                "machine": machine(), "git_commit": git_commit(),
                "first_point": results.next_point_id(), **info}
    meta["runs"].append(run_info)
    results.write_meta(meta)
    return results, meta, run_info


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after its entry was closed as interrupted; ``folder`` is where
    its finished points are (to resume)."""

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = folder


@contextmanager
def owned(results: ResultsDir, meta: dict, run_info: dict):
    """The run's body: the folder stays this run's until it ends, and its entry in
    meta.json is closed either way — marked interrupted when the body did not finish."""
    with results:
        try:
            yield
        except BaseException as err:
            with contextlib.suppress(Exception):
                end_run(results, meta, run_info, interrupted=True)
            if isinstance(err, KeyboardInterrupt) and not isinstance(err, Interrupted):
                raise Interrupted(results.path) from None
            raise
        end_run(results, meta, run_info)


def end_run(results: ResultsDir, meta: dict, run_info: dict, interrupted: bool = False) -> None:
    """Close this run's entry: its end time and the tally of the points it wrote."""
    from .analysis import tally

    if interrupted:
        run_info["interrupted"] = True
    run_info["ended_at"] = now()
    run_info["tally"] = tally(_rows_since(results, run_info.get("first_point", 0)))
    results.write_meta(meta)


def _rows_since(results: ResultsDir, first: int):
    import pandas as pd

    from .points_csv import load_points

    if not results.points_file.exists():
        return pd.DataFrame(columns=["point", "status", "reason", "mode", "n"])
    df = load_points(results.path)
    return df[pd.to_numeric(df["point"], errors="coerce") >= first]
