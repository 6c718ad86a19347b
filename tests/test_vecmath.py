"""The libm-free tanh the activations use, against numpy's, ulp by ulp."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from chainbench.model.layers import vecmath

MAX_ULP = 4  # measured: 3 at most over these draws


@njit(cache=False)
def _tanh_all(x, y):
    for i in range(x.shape[0]):
        y[i] = vecmath.tanh(x[i])


@njit(cache=False)
def _expm1_all(s, y):
    for i in range(s.shape[0]):
        y[i] = vecmath.expm1_nonpositive(s[i])


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1e-3, 0.1, 0.35, 1.0, 3.0, 10.0, 30.0])
def test_tanh_within_a_few_ulp_of_numpy(scale):
    x = scale * np.random.default_rng(int(scale * 1e3) % 2**32).standard_normal(200_000)
    y = np.empty_like(x)
    _tanh_all(x, y)
    assert ulps(y, np.tanh(x)).max() <= MAX_ULP


def test_tanh_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 19.5, -25.0, 1e308])
    y = np.empty_like(x)
    _tanh_all(x, y)
    np.testing.assert_array_equal(y, np.tanh(x))  # NaN in the same place, the rest equal
    assert np.signbit(y[1]) and not np.signbit(y[0])  # tanh(-0) = -0


def test_expm1_nonpositive_within_a_few_ulp():
    s = -np.concatenate([np.geomspace(1e-300, 1.0, 50_000), np.linspace(1.0, 60.0, 50_000)])
    y = np.empty_like(s)
    _expm1_all(s, y)
    assert ulps(y, np.expm1(s)).max() <= MAX_ULP


def test_cody_waite_split_is_exact_enough():
    # hi carries ln 2 to 21 bits (its last at 2^-21), so k·hi is exact for any k a range
    # reduction meets; hi + lo must be ln 2 to double precision
    assert vecmath.LN2_HI + vecmath.LN2_LO == np.log(2.0)
    scaled = vecmath.LN2_HI * 2**21
    assert scaled == int(scaled) and abs(vecmath.LN2_HI - np.log(2.0)) < 2**-21
