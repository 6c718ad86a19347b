"""Run an experiment in this process: the shared run loop (``loop.sweep``) with points
measured here one at a time (``InProcess``), in order of predicted cost within each
series, one row appended to points.csv as each point ends.

Each kind of point is warmed up before its first point in a process (``point.warm_up``):
the one-time JIT compile (or Numba cache load) is timed there, announced, recorded in the
first point's ``compile_s`` and never charged to a point's time budget. The run's entry in
meta.json records the machine profile it used and, at the end, the tally of its points.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ...engines.registry import ENGINES
from ...machine.current import current_profile
from ...machine.own_costs import ensure_overheads
from ...peers import versions as peer_versions
from ...provenance import machine
from ..experiment.config import Experiment, Point
from ..experiment.second import is_peer, is_second
from ..storage.results import ResultsDir
from ..storage.row import Row
from . import timing
from .guards import Guards
from .loop import sweep
from .point import measure_point, resolve, warm_up
from .threads import set_threads


def describe(point: Point) -> str:
    chunk = "" if point.chunk == "default" else f" chunk={point.chunk}"
    snaps = "" if point.snapshots == "default" else f" snapshots={point.snapshots}"
    what = f"{point.quantity} " if is_second(point) else ""
    return (f"{what}{point.mode}{chunk}{snaps} n={point.n} m={point.m} depth={point.depth} "
            f"{point.width}")


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
    info = {"threads": set_threads(threads, pin_affinity=any(
        ENGINES.get(p.mode) is not None and ENGINES[p.mode].family == "peer" or is_peer(p.mode)
        for p in points)),
            "peer_versions": peer_versions(), "profile": profile.to_dict()}
    guards = Guards(exp.measure.budget_s, rate=profile.peak_madds_per_s,
                    sparse_output=exp.measure.sparse_output)
    return sweep(exp, out, InProcess(exp.measure, announce), guards, threads=threads,
                 resume=resume, progress=progress, argv=argv, info=info)


class InProcess:
    """The loop's executor in this process: one point at a time, measured when the loop
    asks for it, its kind warmed up first (``prepare``)."""

    slots = 1

    def __init__(self, policy, announce: Callable | None = None):
        self.policy, self.announce = policy, announce
        here = machine()
        self.where = {"worker": here["hostname"], "cpu_model": here["cpu_model"]}
        self.run_info: dict | None = None
        self.pending: Point | None = None

    def start(self, results: ResultsDir, meta: dict, run_info: dict) -> None:
        self.run_info = run_info  # where each engine's first use is recorded

    def submit(self, point: Point, predicted, priority: int) -> None:
        self.pending = point

    def next(self) -> tuple[Point, Row]:
        point, self.pending = self.pending, None
        compile_s = prepare(point, self.policy, self.announce, self.run_info)
        row = measure_point(point, self.policy)
        if compile_s:  # the kind's one-time warm-up belongs to its first point
            row.compile_s = (row.compile_s or 0.0) + compile_s
            row.wall_s = (row.wall_s or 0.0) + compile_s
        return point, row.update(**self.where)

    def cancel(self) -> None:
        self.pending = None


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
    # the time model's fixed costs (row time_predicted_s), kept in the same profile
    return ensure_overheads(announce)


#: Kinds of point (mode, chunk, snapshots, activation) warmed up in this process, and how
#: each engine's first use went (timing.COMPILED or LOADED).
_WARM: set[tuple] = set()
_ENGINES_READY: dict[str, str] = {}


def engine_label(engine: str) -> str:
    impl = ENGINES.get(engine)  # None: a second-order mode or peer
    return f"{engine}-mode kernels" if impl and impl.family == "ad" else f"{engine} kernels"


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
    impl = ENGINES.get(engine)  # None: a second-order mode or peer, whose cache is not known
    cached = seen[-1] == timing.LOADED if seen else (
        timing.kernels_cached(impl.bind) if impl else None)
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
