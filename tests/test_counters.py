"""Engine counters against hand-counted multiply-adds, and the cost model against the engines."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import SHAPES, random_chain
from hypothesis import given, settings
from hypothesis import strategies as st

import chainbench as cb
from chainbench.cost import predictions as cost

FIELDS = ("mode", "chunk", "sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent",
          "madds_adjoint", "madds_accumulate", "bytes_tape", "bytes_work")
F64 = 8


def stats_of(chain, mode, chunk=None):
    x = np.random.default_rng(0).standard_normal(chain.n)
    return cb.jacobian(chain, x, mode=mode, chunk=chunk, return_stats=True)[1]


# n=3 -> dense:4 -> tanh -> dense:2. Per layer: dense 4·3 = 12, tanh 4, dense 2·4 = 8
# multiply-adds for a value, and the same per tangent lane or cotangent row; the tape keeps
# tanh' (4 floats); the widest vector is 4. A sweep from basis directions starts from the
# columns of W_1 (forward: 3 columns of 4 entries = 12 in all) or the rows of W_3
# (reverse: 2 rows of 4 = 8) and pushes or pulls through the other layers only.
TANH_CHAIN = ("dense:4 tanh dense:2", 3)


COUNTED = ("sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent", "madds_adjoint",
           "madds_accumulate", "bytes_tape", "bytes_work")


@pytest.mark.parametrize(
    "mode, chunk, expected",
    [
        # 3 sweeps of 1 lane: each evaluates the chain (24) and pushes one lane through
        # tanh and dense:2 (4 + 8). work: values 2·4 + lanes 2·4·1 = 16 floats
        ("forward", 1, (3, 0, 3 * 24, 3 * (4 + 8), 0, 12, 0, F64 * (2 * 4 + 2 * 4 * 1))),
        # lanes 2 + 1: 2 sweeps, still 3 lanes in all. work: 2·4 + 2·4·2 = 24 floats
        ("forward", 2, (2, 0, 2 * 24, 3 * 12, 0, 12, 0, F64 * (2 * 4 + 2 * 4 * 2))),
        # one sweep of 3 lanes. work: 2·4 + 2·4·3 = 32 floats
        ("forward", 3, (1, 0, 24, 3 * 12, 0, 12, 0, F64 * (2 * 4 + 2 * 4 * 3))),
        # one recording sweep (24), 2 backward sweeps of one row each through tanh and
        # dense:4 (4 + 12). tape: 4 floats of tanh'. work: values 2·4 + rows 2·4·1 = 16 floats
        ("reverse", 1, (1, 2, 24, 0, 2 * (4 + 12), 8, F64 * 4, F64 * (2 * 4 + 2 * 4 * 1))),
        # one backward sweep of 2 rows. work: 2·4 + 2·4·2 = 24 floats
        ("reverse", 2, (1, 1, 24, 0, 2 * 16, 8, F64 * 4, F64 * (2 * 4 + 2 * 4 * 2))),
    ],
)
def test_counters_by_hand_tanh_chain(mode, chunk, expected):
    chain = cb.Chain.from_spec(*TANH_CHAIN)
    stats = stats_of(chain, mode, chunk)
    assert (stats.mode, stats.chunk) == (mode, chunk)
    assert tuple(getattr(stats, k) for k in COUNTED) == expected
    assert stats.tape_entries == (3 if mode == "reverse" else 0)  # one per layer, if taped
    pred = cb.predict(chain.shape, mode, chunk)  # the cost model, from kinds and widths alone
    assert tuple(getattr(pred, k) for k in COUNTED) == expected


def test_counters_by_hand_softmax_chain():
    # n=2 -> dense:3 -> softmax: dense 3·2 = 6; softmax 2·3 = 6 (exp-and-sum, scale) per value,
    # 2·3 = 6 per lane or row (y·v, then y*(v - s)). Widest vector 3; the tape keeps y (3).
    # Forward starts from W's 2 columns (6 entries), reverse from softmax's 3 rows (9).
    chain = cb.Chain.from_spec("dense:3 softmax", n=2, seed=5)
    fwd = stats_of(chain, "forward", 2)
    assert (fwd.sweeps_forward, fwd.madds_value, fwd.madds_tangent) == (1, 6 + 6, 2 * 6)
    assert fwd.madds_accumulate == 6
    assert fwd.bytes_work == F64 * (2 * 3 + 2 * 3 * 2)
    rev = stats_of(chain, "reverse", 3)
    assert (rev.sweeps_forward, rev.sweeps_backward) == (1, 1)
    assert (rev.madds_value, rev.madds_adjoint, rev.madds_tangent) == (12, 3 * 6, 0)
    assert rev.madds_accumulate == 9
    assert rev.bytes_tape == F64 * 3
    assert rev.bytes_work == F64 * (2 * 3 + 2 * 3 * 3)
    assert rev.madds == 12 + 18 + 9 and rev.bytes_held == F64 * (3 + 24)
    assert cb.predict(chain, "reverse", 3).madds == 12 + 18 + 9
    assert cb.predict(chain, "forward", 2).madds == 12 + 12 + 6


def test_counters_by_hand_jvp_and_vjp_blocks():
    # n=3 -> dense:4 -> relu -> dense:2 (12 + 4 + 8 = 24 per value, lane or row), 5 directions.
    chain = cb.Chain.from_spec("dense:4 relu dense:2", n=3, seed=6)
    x = np.array([0.1, -0.4, 0.9])
    *_, s = cb.jvp(chain, x, np.ones((3, 5)), return_stats=True)
    assert (s.sweeps_forward, s.madds_value, s.madds_tangent, s.madds_adjoint) == (1, 24, 5 * 24, 0)
    assert s.bytes_work == F64 * (2 * 4 + 2 * 4 * 5)  # values and lanes, no seed block
    *_, s = cb.vjp(chain, x, np.ones((5, 2)), return_stats=True)
    assert (s.sweeps_forward, s.sweeps_backward) == (1, 1)
    assert (s.madds_value, s.madds_adjoint, s.madds_tangent) == (24, 5 * 24, 0)
    assert (s.bytes_tape, s.bytes_work) == (F64 * 4, F64 * (2 * 4 + 2 * 4 * 5))


def test_dense_only_chain_matches_the_slides_formula():
    # widths n, m1, m2, m3, m = 3, 5, 4, 2, 6; the slides count n(m·m3 + m3·m2 + m2·m1 + m1·n)
    n, m1, m2, m3, m = 3, 5, 4, 2, 6
    products = m * m3 + m3 * m2 + m2 * m1 + m1 * n
    assert products == 12 + 8 + 20 + 15
    assert cost.slides_formula((n, m1, m2, m3, m)) == (n * products, m * products) == (165, 330)
    # The engines do the slides' products but the first: identity times W_1 (forward,
    # n·m1·n) or W_4 (reverse, m·m·m3), which they replace by writing out W's columns or rows.
    chain = cb.Chain.from_spec(f"dense:{m1} dense:{m2} dense:{m3} dense:{m}", n=n, seed=0)
    fwd, rev = stats_of(chain, "forward", 1), stats_of(chain, "reverse", 1)
    assert fwd.madds_tangent + n * (m1 * n) == n * products
    assert fwd.madds_accumulate == n * m1
    assert rev.madds_adjoint + m * (m * m3) == m * products
    assert rev.madds_accumulate == m * m3
    assert cb.predict(chain, "forward").madds_tangent == fwd.madds_tangent


def assert_prediction_matches(chain, mode, chunk):
    stats, pred = stats_of(chain, mode, chunk), cb.predict(chain, mode, chunk)
    got = {f: getattr(pred, f) for f in FIELDS}
    want = {f: getattr(stats, f) for f in FIELDS}
    assert got == want, f"{chain!r} {mode} chunk={chunk}"
    assert (pred.madds, pred.bytes_held) == (stats.madds, stats.bytes_held)


@settings(max_examples=150, derandomize=True)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES), depth=st.integers(1, 6),
       mode=st.sampled_from(["forward", "reverse"]), chunk_at=st.floats(0, 1) | st.none())
def test_prediction_equals_engine_counters(seed, shape, depth, mode, chunk_at):
    chain = random_chain(np.random.default_rng(seed), shape=shape, depth=depth)
    limit = chain.n if mode == "forward" else chain.m
    chunk = None if chunk_at is None else 1 + int(chunk_at * (limit - 1))
    assert_prediction_matches(chain, mode, chunk)
    assert cb.predict(chain.shape, mode, chunk) == cb.predict(chain, mode, chunk)  # shape alone


@settings(max_examples=40, derandomize=True)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES), depth=st.integers(1, 6))
def test_auto_prediction_equals_engine_counters(seed, shape, depth):
    chain = random_chain(np.random.default_rng(seed), shape=shape, depth=depth)
    assert_prediction_matches(chain, "auto", None)
    picked, chunk = cb.auto_choice(chain)  # by predicted time, chunk included
    assert cb.predict(chain, "auto") == cb.predict(chain, picked, chunk)


def test_auto_prediction_honours_chunk():
    chain = cb.Chain.from_spec("dense:8 tanh dense:3", n=5, seed=0)
    stats = stats_of(chain, "auto", 1)
    assert stats.chunk == 1
    pred = cb.predict(chain, "auto", 1)
    assert {f: getattr(pred, f) for f in FIELDS} == {f: getattr(stats, f) for f in FIELDS}


def test_default_chunk_takes_all_lanes_for_small_chains():
    chain = cb.Chain.from_spec("dense:30 tanh dense:20", n=10, seed=0)
    fwd, rev = stats_of(chain, "forward"), stats_of(chain, "reverse")
    assert (fwd.chunk, fwd.sweeps_forward) == (10, 1)
    assert (rev.chunk, rev.sweeps_backward) == (20, 1)
