"""Fitted figures on synthetic data with known answers."""

import math

import numpy as np
import pandas as pd
import pytest
from machine_helpers import synthetic_profile

from chainbench.harness.analysis import tables
from chainbench.harness.analysis.fits import (
    MIN_POINTS,
    crossover,
    fit_range,
    loglog_slope,
    r2_linear,
    scaling_exponent,
    scaling_fit,
)

N = np.array([16, 32, 64, 128, 256, 512, 1024, 2048], dtype=float)


def test_loglog_slope_recovers_the_exponent_and_its_interval():
    rng = np.random.default_rng(0)
    t = 3e-9 * N**3 * np.exp(rng.normal(0, 0.05, N.size))
    fit = loglog_slope(N, t)
    assert fit.low < 3 < fit.high and fit.high - fit.low < 0.2 and fit.points == N.size
    assert math.isnan(loglog_slope(N[:2], t[:2]).slope)


def test_overhead_points_are_left_out():
    t = 5e-6 + 1e-9 * N**2  # a fixed per-call cost hides the n² at small n
    chosen = fit_range(N, t)
    assert not chosen.mask[0] and chosen.mask[-1] and chosen.rule.startswith("time ≥ 10×")
    assert scaling_exponent(N, t).slope == pytest.approx(2, abs=0.15)
    assert loglog_slope(N, t).slope < 1.8  # fitting every point would understate it


def test_the_profiles_call_overhead_is_a_floor_too():
    t = 1e-9 * N**2  # no fixed cost in the data: 10× smallest keeps n ≥ 64
    assert fit_range(N, t).mask.sum() == 6
    chosen = fit_range(N, t, overhead_s=2e-6)  # but ≥ 10 × 2 µs needs n ≥ 142
    assert chosen.mask.tolist() == [False] * 4 + [True] * 4 and "call overhead" in chosen.rule


def test_a_cache_cliff_is_left_out_when_levels_are_known():
    # n² everywhere, but 8× slower per unit once the working set leaves L3 (from n = 512)
    levels = np.array(["L2"] * 4 + ["L3"] * 1 + ["DRAM"] * 3, dtype=object)
    t = 1e-9 * N**2 * np.where(levels == "DRAM", 8.0, 1.0)
    chosen = fit_range(N, t, levels)
    assert chosen.mask.tolist() == [False] * 5 + [True] * 3 and chosen.regime == "DRAM"
    assert "DRAM" in chosen.rule and not chosen.note
    assert scaling_exponent(N, t, levels).slope == pytest.approx(2, abs=1e-9)
    assert loglog_slope(N, t).slope > 2.3  # across the cliff the fit is the cache's


def test_transitions_are_never_a_regime_and_the_fullest_regime_wins():
    n = 2.0 ** np.arange(4, 15)  # 16 … 16384
    levels = np.array(["L1"] * 2 + ["L1→L2"] + ["L2"] * 4 + ["L2→L3"] * 2 + ["L3"] * 2,
                      dtype=object)
    t = 1e-7 * n**2 * np.where(levels == "L3", 3.0, 1.0)
    chosen = fit_range(n, t, levels)
    assert chosen.regime == "L2" and chosen.mask.sum() == 4
    assert not any("→" in lv for lv in levels[chosen.mask])
    # as many in L3 as in L2: the regime reaching the larger n
    levels[-4:-2] = "L3"
    assert fit_range(n, t, levels).regime == "L3"


def test_the_asymptotic_regime_wins_once_it_holds_five_points():
    # 12 sizes in L3, whose rate keeps rising with the working set (exponent 1.5 there),
    # then 5 in DRAM at a flat rate (exponent 2): the fit is DRAM's, though L3 is fuller
    n = 2.0 ** np.arange(6, 23, dtype=float)
    levels = np.array(["L3"] * 12 + ["DRAM"] * 5, dtype=object)
    t = np.where(levels == "L3", 1e-6 * n**1.5, 1e-6 * n[11] ** 1.5 * (n / n[11]) ** 2)
    chosen = fit_range(n, t, levels)
    assert chosen.regime == "DRAM" and chosen.mask.sum() == 5
    assert scaling_exponent(n, t, levels).slope == pytest.approx(2, abs=1e-9)
    # with only four sizes past the last cache the fuller regime is fitted
    assert fit_range(n[1:], t[1:], levels[1:]).regime == "DRAM"
    assert fit_range(n[:-1], t[:-1], levels[:-1]).regime == "L3"


def test_fewer_than_three_points_in_a_regime_are_not_fitted():
    levels = np.array(["L2", "L2", "L2→L3", "L3", "L3", "DRAM"], dtype=object)
    n = N[:6]
    fit = scaling_fit(n, 1e-9 * n**3, levels)
    assert math.isnan(fit.slope.slope) and not fit.trusted
    assert f"need {MIN_POINTS}" in fit.note and "in one regime" in fit.note
    fit = scaling_fit(N[:2], np.array([1e-6, 1e-4]))
    assert math.isnan(fit.slope.slope) and fit.note.startswith("only 1 point")


def test_a_wide_interval_is_fitted_but_not_trusted():
    n = np.array([16, 256, 512, 1024, 2048], dtype=float)
    t = 1e-9 * n**2 * np.array([1, 1, 4, 0.5, 3])  # four points above overhead, zigzagging
    fit = scaling_fit(n, t)
    assert fit.slope.points == 4
    assert math.isfinite(fit.slope.slope) and not fit.trusted and "interval" in fit.note
    clean = scaling_fit(N, 1e-9 * N**2)
    assert clean.trusted and clean.note == ""


def _rows(mode, n, t, levels, madds=None, working_set=None):
    n = np.asarray(n)
    return pd.DataFrame({"mode": mode, "chunk_spec": "default", "snapshots_spec": "default",
                         "depth": 2, "width": "square", "activation": "tanh", "seed": 0,
                         "n": n, "m": 1, "status": "ok", "time_median_s": t,
                         "madds_predicted": n.astype(float) ** 2, "memory_level": levels,
                         "madds_counted": 4.0 * n**2 if madds is None else madds,
                         "working_set_bytes": 16.0 * n**2 if working_set is None else working_set})


def test_exponents_fit_inside_one_measured_regime_and_say_when_they_cannot():
    n = np.array([64, 128, 256, 512, 1024, 2048, 4096])
    levels = ["L2", "L2", "L2→L3", "L3", "L3", "L3", "L3→DRAM"]
    t = 1e-9 * n.astype(float) ** 2 * np.array([1, 1, 1.5, 2, 2, 2, 3])
    few = _rows("forward", n[:4], 1e-12 * n[:4].astype(float) ** 3, levels[:4])
    df = pd.concat([_rows("reverse", n, t, levels), few])
    df.attrs["profile"] = synthetic_profile().to_dict()  # call overhead 0.3 µs
    table = tables.exponents(df).set_index("mode")
    rev, fwd = table.loc["reverse"], table.loc["forward"]
    assert rev["regime"] == "L3" and rev["points"] == 3
    assert (rev["n_from"], rev["n_to"]) == (512, 2048)
    assert rev["exponent"] == pytest.approx(2) and rev["trusted"] and rev["note"] == ""
    assert "call overhead" in rev["range"]
    assert math.isnan(fwd["exponent"]) and not fwd["trusted"] and "need 3" in fwd["note"]


def test_compute_bound_points_share_one_regime_across_memory_levels():
    """Forward mode multiplies n×n blocks: its time is set by multiply-adds (n³), not by the
    cache its working set sits in, so its points form one 'compute' regime; reverse mode's
    matrix-vector products stay in their memory levels."""
    from chainbench.harness.analysis.fits import compute_bound

    profile = synthetic_profile()  # peak 2e10 multiply-adds/s; L1 1.2e11 … DRAM 1.5e10 B/s
    n = np.array([16, 64, 128, 256, 512, 1024, 2048], dtype=float)
    assert compute_bound(n**3, 32 * n**2, profile).tolist() == [False] + [True] * 6
    assert not compute_bound(4 * n**2, 16 * n**2, profile).any()
    levels = [profile.regime(b) for b in 32 * n**2]
    assert len({lv for lv in levels if "→" not in lv}) >= 2  # they span memory levels
    df = _rows("forward", n, n**3 / 2e10 + 1e-6, levels, madds=n**3, working_set=32 * n**2)
    df.attrs["profile"] = profile.to_dict()
    fwd = tables.exponents(df).iloc[0]
    assert fwd["regime"] == "compute" and fwd["trusted"] and fwd["n_to"] == 2048
    assert fwd["exponent"] == pytest.approx(3, abs=0.05)


def test_crossover_interpolates_in_log_log():
    m = np.array([1, 4, 16, 64, 256], dtype=float)
    ratio = m / 16.0  # forward/reverse time ratio crossing 1 at m = 16
    assert crossover(m, ratio) == pytest.approx(16)
    assert crossover(m, np.full(5, 2.0)) != crossover(m, np.full(5, 2.0))  # NaN: never


def test_r2_linear():
    x = np.arange(10.0)
    assert r2_linear(x, 2 * x + 1) == pytest.approx(1)
    assert r2_linear(x, np.random.default_rng(1).normal(size=10)) < 0.5


def test_the_exponent_is_split_into_the_works_share_and_the_machines():
    """A series whose time grows as n^1.5 while its counted work grows as n^2 is the
    machine's doing (a faster rate at larger working sets): the decomposition says the
    algorithm's exponent is 2, the machine's share −0.5, and why, with the rate measured at
    both ends; a series whose time follows its work has no machine's share to explain."""
    n = 256 * 2 ** np.arange(7)  # the fits keep the points ≥ 10× the smallest time
    levels = ["L3"] * 7
    steady = _rows("reverse", n, 1e-9 * n.astype(float) ** 2, levels)
    wandering = _rows("forward", n, 1e-8 * n.astype(float) ** 1.5, levels)
    df = pd.concat([steady, wandering])
    table = tables.exponents(df).set_index("mode")
    rev, fwd = table.loc["reverse"], table.loc["forward"]
    assert rev["work_exponent"] == pytest.approx(2)
    assert rev["per_madd_exponent"] == pytest.approx(0, abs=1e-9) and rev["why"] == ""
    assert fwd["exponent"] == pytest.approx(1.5)
    assert fwd["work_exponent"] == pytest.approx(2)
    assert fwd["per_madd_exponent"] == pytest.approx(-0.5)
    grown = fwd["n_to"] / fwd["n_from"]
    assert fwd["rate_to"] / fwd["rate_from"] == pytest.approx(grown ** 0.5)  # rate ∝ n^0.5
    assert fwd["level_from"] == fwd["level_to"] == "L3"
    assert f"{grown ** 0.5:.2g}× faster at n = {int(fwd['n_to'])}" in fwd["why"]
    assert f"than at n = {int(fwd['n_from'])}" in fwd["why"]


def test_the_terminal_shows_the_decomposition_and_why():
    from chainbench.cli.fit import exponent_lines
    from chainbench.cli.summary import exponent_table

    n = 256 * 2 ** np.arange(7)
    table = tables.exponents(_rows("reverse", n, 1e-8 * n.astype(float) ** 1.5, ["L3"] * 7))
    for lines in (exponent_lines(table), exponent_table(table)):
        assert "work  machine" in lines[0]
        assert "2.00    -0.50" in lines[1]
        assert any("the machine's share -0.50" in line for line in lines[2:])
        assert max(map(len, lines)) <= 100
