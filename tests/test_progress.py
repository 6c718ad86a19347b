"""What `chainbench run` shows while it works and when it ends: a bar from the first moment,
the running point, an ETA from the predicted cost of the points left (scaled by how the
points so far compared with their prediction), no rate on resume, and a summary that fits
100 columns."""

from __future__ import annotations

import io
import time

import pytest

from chainbench.cli import main, progress
from chainbench.cli.progress import Progress
from chainbench.harness.experiment import config
from chainbench.harness.run.sweep import describe
from chainbench.harness.storage.row import Row


@pytest.fixture
def points(tiny):
    return config.resolve(str(tiny)).points()


@pytest.fixture
def priced(monkeypatch):
    """Points priced by n alone: n = 4 takes 1 s, n = 8 takes 10 s."""
    monkeypatch.setattr(progress, "expected_wall", lambda p, policy: 1.0 if p.n == 4 else 10.0)


def _row(wall_s: float) -> Row:
    return Row(status="ok", time_median_s=1e-3, j_over_f=2.0, wall_s=wall_s, compile_s=0.0)


def test_the_eta_is_the_predicted_cost_left_scaled_by_the_points_so_far(points, priced):
    shown = Progress(quiet=True, points=points)
    total = sum(1.0 if p.n == 4 else 10.0 for p in points)
    first = next(p for p in points if p.n == 4)
    shown.started(first)
    assert shown.eta() == pytest.approx(total, abs=0.1)  # nothing measured yet: as predicted
    shown(1, len(points), first, _row(wall_s=2.0))  # took twice its prediction
    assert shown.eta() == pytest.approx(2 * (total - 1.0))
    big = next(p for p in points if p.n == 8)
    shown.started(big)
    shown.point = (shown.point[0], time.monotonic() - 5.0)  # it has run 5 s of its 20
    assert shown.eta() == pytest.approx(2 * (total - 1.0) - 5.0, abs=0.1)


def test_points_of_an_earlier_run_count_as_done_but_not_in_the_rate(points, priced, capsys):
    shown = Progress(quiet=True, points=points)
    for k, point in enumerate(points[:3], start=1):
        shown(k, len(points), point, None)  # --resume: done in an earlier run
    assert not shown.ratios
    left = sum(1.0 if p.n == 4 else 10.0 for p in points[3:])
    assert shown.eta() == pytest.approx(left)
    assert "done in an earlier run" in capsys.readouterr().out
    assert "point/s" not in capsys.readouterr().out


def test_the_bar_shows_from_the_start_and_names_the_running_point(points, priced):
    stream = io.StringIO()
    shown = Progress(quiet=False, points=points, stream=stream)
    try:
        assert f"0/{len(points)} points" in stream.getvalue()  # before any point, any compile
        shown.announce("compiling forward-mode kernels (first use, about 6 s) …")
        assert "now: compiling forward-mode kernels" in stream.getvalue().rsplit("\r", 1)[-1]
        shown.started(points[0])
        assert describe(points[0])[:20] in stream.getvalue().rsplit("\r", 1)[-1]
        shown.announce("forward-mode kernels compiled in 5.8 s")  # the task ended
        assert describe(points[0])[:20] in stream.getvalue().rsplit("\r", 1)[-1]
    finally:
        shown.close()


def test_the_run_ends_with_a_summary_in_100_columns(tiny, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--report"]) == 0
    text = capsys.readouterr().out
    summary = text[text.index("== summary"):].splitlines()
    assert summary[1].startswith("points: 8 ok")
    assert summary[-2:] == [f"results: {out / 'points.csv'}", f"report:  {out / 'report.html'}"]
    assert (out / "report.html").stat().st_size > 1000
    assert max(map(len, summary)) <= 100
    assert "[8/8]" in text


def test_the_summary_tables_the_exponents_narrowly():
    import pandas as pd

    from chainbench.cli.summary import exponent_table

    base = {"chunk_spec": "default", "snapshots_spec": "default", "depth": 2, "width": "square",
            "activation": "tanh", "seed": 0, "m_rule": "m=1", "n_from": 256, "n_to": 1024}
    table = pd.DataFrame([{**base, "mode": "reverse", "exponent": 2.013, "ci_low": 1.9,
                           "ci_high": 2.1, "trusted": True},
                          {**base, "mode": "forward", "exponent": float("nan"), "ci_low": 0,
                           "ci_high": 0, "trusted": False}])
    lines = exponent_table(table)
    assert lines[0].split() == ["series", "exponent", "95%", "interval", "work", "machine",
                                "n", "range"]
    assert "2.01   1.90 … 2.10      -        -  256–1024" in lines[1]  # no decomposition given
    assert "not fitted" in lines[2]
    assert max(map(len, lines)) <= 100
