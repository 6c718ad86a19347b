"""The harness refuses what would hide a failure or hang: floats that are not finite or out
of range, grids too large to expand, measuring loops without an end."""

import math
import time
from types import SimpleNamespace

import pytest

from chainbench.harness.experiment import config
from chainbench.harness.experiment.config import ConfigError, Measure, parse
from chainbench.harness.run import timing


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
    with pytest.raises(ConfigError, match=r"got 10000000000000000000…"):
        Measure(min_seconds=10**400)  # beyond any float
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
    from chainbench.harness.run import sweep
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sweep, "run", lambda *a, **k: pytest.fail("ran into the current folder"))
    with pytest.raises(SystemExit) as exit_:
        main(["run", "quick", "--out", out, "--quiet"])
    assert exit_.value.code == 2 and "--out: an empty path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --- the memory guard runs before J is colored ------------------------------------------


def test_a_point_too_large_to_color_is_skipped_and_the_run_goes_on(tmp_path, monkeypatch):
    """Predicting 'auto' or a sparse mode colors J in memory proportional to n: a point too
    large for that is skipped with the reason before anything is colored."""
    import pandas as pd

    from chainbench.cli import main
    from chainbench.cost import sparse as cost_sparse
    from chainbench.engines import sparse as engine_sparse
    from chainbench.harness.run import guards
    big = 2**25
    colored = []

    def coloring(shape, side, real=engine_sparse.chain_coloring):
        if shape.n >= big:
            colored.append(shape.n)
            raise MemoryError("colored a chain the guard should have skipped")
        return real(shape, side)

    monkeypatch.setattr(cost_sparse, "chain_coloring", coloring)
    monkeypatch.setattr(engine_sparse, "chain_coloring", coloring)
    monkeypatch.setattr(guards, "available_memory", lambda: 2**30)  # 1 GiB here
    path = tmp_path / "huge.toml"
    path.write_text(f'name = "huge"\n[grid]\nlayers = ["conv:3 tanh conv:3"]\nn = [8, {big}]\n'
                    'modes = ["sparse-forward", "auto"]\n[measure]\nmin_samples = 1\n'
                    "min_seconds = 0.001\nmax_seconds = 0.01\nmin_sample_ms = 0.1\n"
                    "memory = false\nsparse_output = true\n")
    assert main(["run", str(path), "--out", str(tmp_path / "res"), "--quiet"]) == 0
    df = pd.read_csv(tmp_path / "res" / "points.csv")
    assert not colored
    assert sorted(df.loc[df["n"] == 8, "status"]) == ["ok", "ok"]
    huge = df[df["n"] == big]
    assert (huge["status"] == "skipped").all() and len(huge) == 2
    assert huge["reason"].str.contains(r"needs at least 1.38 GiB .* of the 1 GiB available").all()


def test_floor_bytes_is_a_lower_bound_of_the_planned_bytes():
    """The guard before prediction never skips a point the full guard would admit."""
    from chainbench import api
    from chainbench.harness.run.guards import floor_bytes, planned_bytes
    from chainbench.harness.run.point import resolve

    exp = parse('[[grid]]\nn = [4, 64, 300]\nm = [1, "n"]\ndepth = [1, 3]\nwidth = ["square", 2]\n'
                'modes = ["forward", "reverse", "sparse-forward", "sparse-reverse", "auto"]\n'
                '[[grid]]\nlayers = ["conv:3 tanh grouped:{n}:{n/4}", "dense:{n}"]\n'
                'n = [16, 256]\nmodes = ["sparse-forward", "sparse-reverse", "auto", "revolve"]\n')
    for sparse_output in (False, True):
        for p in exp.points():
            engine, chunk, snapshots = resolve(p)
            predicted = api.predict(p.shape, engine, chunk, snapshots)
            assert floor_bytes(p, sparse_output) <= planned_bytes(p, predicted, sparse_output), p
