"""The harness refuses what would hide a failure or hang: floats that are not finite or out
of range, grids too large to expand, measuring loops without an end."""

import math
import time
from types import SimpleNamespace

import pytest

from chainbench.harness import config, timing
from chainbench.harness.config import ConfigError, Measure, parse


@pytest.mark.parametrize("key", ["budget_s", "check_tol", "min_seconds", "max_seconds",
                                 "min_sample_ms"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_every_float_of_measure_is_finite(key, value):
    with pytest.raises(ConfigError, match=f"measure.{key}: must be a finite number") as err:
        parse(f"[grid]\nn = [4]\n[measure]\n{key} = {value}\n")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("key, value", [("check_tol", 2.0), ("max_seconds", 1e6),
                                        ("min_sample_ms", 1e9), ("budget_s", 1e12)])
def test_floats_of_measure_stay_in_their_range(key, value):
    with pytest.raises(ConfigError, match=f"measure.{key}: must be a finite number > 0"):
        parse(f"[grid]\nn = [4]\n[measure]\n{key} = {value}\n")


def test_measure_built_in_python_is_checked_too():
    with pytest.raises(ConfigError, match="measure.budget_s"):
        Measure(budget_s=math.nan)
    assert Measure(min_seconds=10, max_seconds=0.05).max_seconds == 0.05  # max wins, allowed


def test_a_huge_grid_is_refused_before_it_is_expanded(monkeypatch):
    values = list(range(1, 301))
    expanded = []
    monkeypatch.setattr(config, "expand", lambda grid: expanded.append(grid) or [])
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"makes 54000000 points, more than 100000"):
        parse(f"[grid]\nn = {values}\nm = {values}\ndepth = {values}\n")
    assert time.perf_counter() - start < 5 and not expanded


def test_count_matches_expand():
    for text in ['[grid]\nn = [4, 8]\nm = [1, "n"]\nmodes = ["forward", "reverse", '
                 '"revolve", "sparse-forward"]\nchunk = [1, "n"]\nsnapshots = [1, 2, 3]\n',
                 '[grid]\nlayers = ["conv:3 tanh", "dense:{n}"]\nn = [8, 16]\nseed = [0, 1]\n']:
        (grid,) = parse(text).grids
        assert config.count(grid) == len(config.expand(grid))


def test_grid_depth_is_bounded():
    with pytest.raises(ConfigError, match="grid.depth: 100000000 is not an integer from 0"):
        parse("[grid]\nn = [4]\ndepth = [100000000]\n")


def test_measure_loop_ends_whatever_its_policy(monkeypatch):
    """A policy with no end (built around the checks) still stops at the loop's own limit."""
    monkeypatch.setattr(timing, "MEASURE_LIMIT_S", 0.05)
    policy = SimpleNamespace(min_sample_ms=math.nan, min_samples=10**9, min_seconds=math.inf,
                             max_seconds=math.inf)
    start = time.perf_counter()

    def call():
        if time.perf_counter() - start > 5:
            raise RuntimeError("the measuring loop did not stop")

    t = timing.measure(call, policy)
    assert time.perf_counter() - start < 5 and t.samples >= 1


@pytest.mark.parametrize("out", ["", "  "])
def test_run_refuses_an_empty_out(tmp_path, monkeypatch, capsys, out):
    from chainbench.cli import main
    from chainbench.harness import sweep

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sweep, "run", lambda *a, **k: pytest.fail("ran into the current folder"))
    with pytest.raises(SystemExit) as exit_:
        main(["run", "quick", "--out", out, "--quiet"])
    assert exit_.value.code == 2 and "--out: empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
