"""Choices that respect the model's error: each plan's kind of pass, the band measured for it,
and a safe default left only for a predicted gain larger than that band."""

from __future__ import annotations

import dataclasses
import math

import pytest
from machine_helpers import synthetic_profile

import chainbench as cb
from chainbench.cost import bands
from chainbench.cost.choice import Candidate, _choose
from chainbench.cost.sweeps import forward_plan, reverse_plan
from chainbench.cost.work import copy_pass, product_pass, value_pass

SHAPE = cb.ChainShape.from_spec("dense:256 tanh dense:1024 tanh dense:256", 250)


def _profile(**errors):
    profile = synthetic_profile()
    overheads = dataclasses.replace(profile.own_costs, errors=tuple(errors.items()))
    return dataclasses.replace(profile, overheads=overheads, created=f"bands {errors}")


def test_each_pass_has_the_kind_that_bounds_it():
    shape = cb.ChainShape.from_spec("dense:64 tanh", 64)
    assert bands.pass_kind(product_pass(64, 64, 64)) == "gemm"
    assert bands.pass_kind(product_pass(64, 64, 4)) == "skinny"
    assert bands.pass_kind(product_pass(64, 64, 1)) == "stream"
    assert bands.pass_kind(value_pass(shape, 0)) == "stream"  # a dense layer's y = W x
    assert bands.pass_kind(value_pass(shape, 1)) == "rule"  # tanh, priced per multiply-add
    assert bands.pass_kind(copy_pass(100)) == "copy"


def test_the_band_of_a_kind_is_the_measured_one_else_the_widest_measured():
    profile = _profile(skinny=0.5, gemm=0.1)
    assert bands.kind_band("skinny", profile) == 0.5
    assert bands.kind_band("gemm", profile) == 0.1
    assert bands.kind_band("copy", profile) == 0.5  # unmeasured: the widest there is
    assert bands.kind_band("copy", _profile()) == bands.UNMEASURED
    assert bands.kind_band("gemm", _profile(gemm=0.0)) == bands.FLOOR


def test_a_plan_is_as_uncertain_as_the_kinds_its_time_goes_to():
    profile = _profile(skinny=0.6, stream=0.1, gemm=0.2, rule=0.15, copy=0.1, overhead=0.05)
    skinny = reverse_plan(SHAPE, 4)
    assert bands.dominant_kind(skinny, profile) == "skinny"
    assert bands.plan_band(skinny, profile) == 0.6
    banded = bands.banded(skinny, profile)
    assert banded.low < banded.seconds < banded.high
    assert banded.high / banded.seconds == pytest.approx(math.exp(0.6))
    wide = forward_plan(cb.ChainShape.from_spec("dense:256 tanh dense:256", 256), 256)
    assert bands.dominant_kind(wide, profile) == "gemm"


def _candidates(risky_seconds):
    return [Candidate(1.0, (0,), "reverse", reverse_plan(SHAPE, 256), True),
            Candidate(risky_seconds, (1,), "reverse chunk 4", reverse_plan(SHAPE, 4), False)]


@pytest.mark.parametrize("band", [0.1, 0.3, 0.6])
def test_the_safe_default_is_left_only_for_a_gain_beyond_the_band(band):
    profile = _profile(skinny=band, stream=band, rule=band, gemm=band, copy=band)
    below = _choose(_candidates(math.exp(-band) * 1.01), profile)
    assert below.picked.value == "reverse" and below.fastest.value == "reverse chunk 4"
    assert 0 < below.gain < below.band == pytest.approx(band)
    assert "kept the pure mode" in below.why()
    above = _choose(_candidates(math.exp(-band) * 0.99), profile)
    assert above.picked.value == "reverse chunk 4" and above.gain > above.band
    assert "more than the model's measured error" in above.why()


def test_between_safe_candidates_the_faster_is_taken_whatever_the_band():
    profile = _profile(stream=0.9)
    plan = reverse_plan(SHAPE, 256)
    safe = [Candidate(1.0, (0,), "forward", plan, True), Candidate(0.95, (1,), "reverse", plan, True)]
    choice = _choose(safe, profile)
    assert choice.picked.value == "reverse" and choice.band == 0.0


def test_the_issues_chain_stays_at_the_default_when_skinny_products_are_uncertain(monkeypatch):
    from chainbench import strategies
    from chainbench.machine import current

    # skinny products predicted as fast as the square grid says, but measured this far off
    profile = _profile(skinny=2.0)
    monkeypatch.setattr(current, "_CURRENT", profile)
    decision = strategies.auto_decision(SHAPE)
    assert decision.picked.safe
    assert decision.fastest.safe or decision.gain <= decision.band
    trusting = _profile(skinny=0.0, stream=0.0, gemm=0.0, rule=0.0, copy=0.0, overhead=0.0)
    monkeypatch.setattr(current, "_CURRENT", trusting)
    fastest = strategies.auto_decision(SHAPE).fastest
    assert strategies.auto_choice(SHAPE) == fastest.value or \
        strategies.auto_decision(SHAPE).gain <= bands.FLOOR


def test_measured_errors_are_one_finite_band_per_kind_a_case_is_bound_by(monkeypatch):
    from chainbench.machine import prediction_errors

    monkeypatch.setattr(prediction_errors, "CASES", (
        ("dense:8 tanh dense:1", 8, "reverse", None),
        ("dense:64 tanh dense:64", 64, "forward", None)))
    monkeypatch.setattr(prediction_errors, "SAMPLE_S", 0.002)
    profile = synthetic_profile()
    errors = prediction_errors.measure_errors(profile)
    kinds = [k for k, _ in errors]
    assert kinds and set(kinds) <= set(bands.KINDS) and len(set(kinds)) == len(kinds)
    assert all(math.isfinite(b) and b >= 0 for _, b in errors)
    for spec, n, mode, _ in prediction_errors.CASES:
        plan = cb.bind(cb.Chain.from_spec(spec, n), mode).plan
        assert bands.dominant_kind(plan, profile) in kinds


def test_the_kinds_share_out_the_whole_predicted_time():
    from chainbench.cost.time_model import price_plan

    profile = _profile(gemm=0.1)
    for plan in (reverse_plan(SHAPE, 4), reverse_plan(SHAPE, 256), forward_plan(SHAPE, 8)):
        assert sum(bands.shares(plan, profile).values()) == \
            pytest.approx(price_plan(plan, profile).seconds, rel=1e-9)
