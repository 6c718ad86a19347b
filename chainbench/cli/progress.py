"""What ``chainbench run`` shows while it works: on a terminal, a bar drawn from the first
second (the clock ticks through calibration and the one-time compile too), the point being
measured now, and an ETA from the time model's predicted cost of the points left, scaled by
how long the points so far took against their prediction; in Jupyter, the notebook's bar
(``notebook=True``); elsewhere, one line per point.

Points done in an earlier run (``--resume``) count as done at once and do not enter the
estimate, so a resumed run shows no rate it did not achieve."""

from __future__ import annotations

import shutil
import statistics
import sys
import threading
import time

from ..harness.run.reporter import Reporter
from ._format import seconds

#: Columns the bar takes before its postfix (percentage, bar, count, clock).
BAR_COLUMNS = 44
#: Seconds between redraws of the bar while nothing else happens (the clock keeps moving).
TICK_S = 1.0


class Progress(Reporter):
    """``progress(done, total, point, row)`` after each point, ``started(point)`` as one is
    sent, ``announce(text)`` for what takes time outside the points (see harness.run.loop)."""

    def __init__(self, quiet: bool, points=(), policy=None, stream=None, notebook=False):
        self.quiet, self.stream, self.notebook = quiet, stream or sys.stderr, notebook
        self.points, self.policy = list(points), policy
        self.expected: dict | None = None  # point key -> predicted wall seconds
        self.left: dict = {}
        self.ratios: list[float] = []  # measured wall / predicted wall of the points so far
        # what the bar says runs now: the point being measured, or a task that holds it up
        # (calibrating, compiling), each with when it began
        self.point, self.task, self.current = ("starting", time.monotonic()), None, None
        self.bar, self._stop = None, threading.Event()
        if not quiet:
            self._open(len(self.points))

    # --- what the loop and the sweep call ---------------------------------------------------

    def announce(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
            # 'compiling … (about 6 s) …' begins a task; the line saying it ended ends it
            self.task = (text.rstrip(" …."), time.monotonic()) if text.endswith("…") else None
            self._redraw()
        else:
            print(text, flush=True)

    def started(self, point) -> None:
        from ..harness.run.sweep import describe

        self._estimate()
        self.point, self.task, self.current = (describe(point), time.monotonic()), None, point.key
        self._redraw()

    def __call__(self, done, total, point, row):
        from ..harness.run.sweep import describe

        self._estimate()
        expected = self.left.pop(point.key, None)
        if row is not None and expected and row.wall_s:
            work = max(float(row.wall_s) - float(row.compile_s or 0.0), 0.0)
            self.ratios.append(work / expected)
        if self.quiet:
            eta = self.eta()
            print(f"[{done}/{total}] {describe(point)}: {row_summary(row)}"
                  + (f" · about {seconds(eta)} left" if eta and done < total else ""),
                  flush=True)
            return
        if self.bar is None:
            self._open(total)
        self.bar.total = total
        self.point = ("finishing" if done >= total else "next point", time.monotonic())
        self.bar.update(1)
        self._redraw()

    def close(self) -> None:
        self._stop.set()
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    # --- the estimate -----------------------------------------------------------------------

    def eta(self) -> float | None:
        """Seconds left: the predicted wall time of the points not done, times the median
        ratio of measured to predicted so far (1 before the first point), less the time the
        running point has had already."""
        if not self.left:
            return None
        scale = statistics.median(self.ratios) if self.ratios else 1.0
        current = self.left.get(self.current, 0.0)
        ran = time.monotonic() - self.point[1] if current else 0.0
        return scale * sum(self.left.values()) - min(ran, scale * current)

    def _estimate(self) -> None:
        """Price every point once the machine profile exists (the first point's start)."""
        if self.expected is not None:
            return
        self.expected = {p.key: expected_wall(p, self.policy) for p in self.points}
        self.left = dict(self.expected)

    # --- the bar ----------------------------------------------------------------------------

    def _open(self, total: int) -> None:
        if self.notebook:  # Jupyter's widget where ipywidgets is installed
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm

        # tqdm's own rate and ETA count points as equal, and count the points a resumed run
        # skips as if measured: the bar shows ours instead
        self.bar = tqdm(total=total, file=self.stream, dynamic_ncols=True, unit="point",
                        bar_format="{percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} points "
                                   "· {elapsed}{postfix}")
        self._redraw()
        threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            self._redraw()

    def _redraw(self) -> None:
        bar = self.bar
        if bar is None:
            return
        eta = self.eta()
        parts = [f"~{seconds(max(eta, 0.0))} left"] if eta is not None else []
        what, since = self.task or self.point
        parts.append(f"now: {what} ({seconds(time.monotonic() - since)})")
        room = shutil.get_terminal_size((100, 24)).columns - BAR_COLUMNS
        bar.set_postfix_str(" · ".join(parts)[:max(room, 20)], refresh=False)
        bar.refresh()


def expected_wall(point, policy) -> float:
    """Predicted wall seconds of measuring ``point``: the time model's seconds per call,
    through ``timing.expected_wall_s``; the sampling floor where the model cannot say."""
    from .. import api
    from ..harness.experiment.config import Measure
    from ..harness.experiment.second import is_second
    from ..harness.run.point import predict, resolve
    from ..harness.run.timing import expected_wall_s

    policy = policy or Measure()
    try:
        if is_second(point):
            call_s = _second_call_s(point, predict)
            return expected_wall_s(call_s, policy) + expected_wall_s(0.0, policy)  # gradient
        engine, chunk, snapshots = resolve(point)
        call_s = api.predict_time(point.shape, engine, chunk, snapshots).seconds
    except (ValueError, KeyError, TypeError, NotImplementedError):
        call_s = 0.0
    return expected_wall_s(call_s, policy)


def _second_call_s(point, predict) -> float:
    """A second-order call's seconds: the time model's for a Hessian by a chainbench mode;
    for an HVP or a peer (which the time model does not price) its multiply-adds at the
    peak GEMM rate."""
    from ..machine.current import current_profile
    from ..peers.second import HESSIAN
    from ..second_order import HESSIAN_MODES, predict_hessian_time

    if point.quantity == HESSIAN and point.mode in HESSIAN_MODES:
        return predict_hessian_time(point.shape, point.mode).seconds
    return predict(point).madds / current_profile().peak_madds_per_s


def row_summary(row) -> str:
    if row is None:
        return "done in an earlier run"
    if row.status != "ok":
        return f"{row.status}: {row.reason}"
    if row.hvp_over_g is not None:  # an HVP: in gradients, its yardstick
        return f"{seconds(row.time_median_s)} (HVP/gradient {row.hvp_over_g:.3g})"
    what = {"hessian": "H/F"}.get(row.quantity, "J/F")
    return f"{seconds(row.time_median_s)} ({what} {row.j_over_f:.3g})"
