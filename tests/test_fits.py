"""Fitted figures on synthetic data with known answers."""

import math

import numpy as np
import pytest

from chainbench.harness.fits import (
    crossover,
    fit_range,
    loglog_slope,
    memory_level,
    r2_linear,
    scaling_exponent,
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
    mask, rule = fit_range(N, t)
    assert not mask[0] and mask[-1] and rule.startswith("time ≥ 10×")
    assert scaling_exponent(N, t).slope == pytest.approx(2, abs=0.15)
    assert loglog_slope(N, t).slope < 1.8  # fitting every point would understate it


def test_a_cache_cliff_is_left_out_when_levels_are_known():
    # n² everywhere, but 8× slower per unit once the working set leaves L3 (from n = 512)
    levels = np.array(["L2"] * 4 + ["L3"] * 1 + ["DRAM"] * 3, dtype=object)
    t = 1e-9 * N**2 * np.where(levels == "DRAM", 8.0, 1.0)
    mask, rule = fit_range(N, t, levels)
    assert mask.tolist() == [False] * 5 + [True] * 3 and "DRAM" in rule
    assert scaling_exponent(N, t, levels).slope == pytest.approx(2, abs=1e-9)
    assert scaling_exponent(N, t).slope > 2.3  # across the cliff the fit is the cache's


def test_too_few_points_fall_back_to_the_largest_three():
    mask, rule = fit_range(N[:4], np.ones(4))
    assert mask.tolist() == [False, True, True, True] and rule == "largest 3 sizes"


@pytest.mark.parametrize("size, level", [(1000, "L1d"), (40_000, "L2"), (2**24, "L3"),
                                         (2**26, "DRAM")])
def test_memory_level(size, level):
    assert memory_level(size, {"L1d": 32768, "L2": 2**20, "L3": 2**25}) == level


def test_crossover_interpolates_in_log_log():
    m = np.array([1, 4, 16, 64, 256], dtype=float)
    ratio = m / 16.0  # forward/reverse time ratio crossing 1 at m = 16
    assert crossover(m, ratio) == pytest.approx(16)
    assert crossover(m, np.full(5, 2.0)) != crossover(m, np.full(5, 2.0))  # NaN: never


def test_r2_linear():
    x = np.arange(10.0)
    assert r2_linear(x, 2 * x + 1) == pytest.approx(1)
    assert r2_linear(x, np.random.default_rng(1).normal(size=10)) < 0.5
