"""Pass costs as curves: measured with explain's kernels, read by log-log interpolation
(continuous, exact at the measured points, held at the ends), priced by the time model,
cached in the profile file and measured again under an older schema."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from machine_helpers import synthetic_profile

from chainbench.cost.time_model import pass_prices, working_set
from chainbench.cost.work import copy_pass, lane_pass
import chainbench as cb
from chainbench.machine import calibrate as calibration
from chainbench.machine import current as machine_current
from chainbench.machine import profile as machine
from chainbench.machine.curves import BLOCKS, curve_rate, measure_curves
from chainbench.model.shape import ChainShape

CURVES = (("tangent", 1, 2.0**15, 4e9), ("tangent", 1, 2.0**23, 2e9),
          ("tangent", 16, 2.0**15, 1.6e10), ("tangent", 16, 2.0**23, 8e9),
          ("adjoint", 1, 2.0**15, 3e9), ("adjoint", 16, 2.0**23, 6e9),
          ("copy", 0, 2.0**13, 5e10), ("copy", 0, 2.0**25, 1e10),
          ("fill", 0, 2.0**13, 8e10), ("alloc", 0, 2.0**13, 2e11), ("alloc", 0, 2.0**25, 2e9))


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    folder = tmp_path / "profiles"
    monkeypatch.setenv(machine.PROFILE_DIR_ENV, str(folder))
    machine_current._CURRENT = None
    yield folder
    machine_current._CURRENT = None


def test_curves_are_exact_at_their_points_and_held_at_their_ends():
    assert curve_rate(CURVES, "copy", 2.0**13) == pytest.approx(5e10)
    assert curve_rate(CURVES, "copy", 2.0**25) == pytest.approx(1e10)
    assert curve_rate(CURVES, "copy", 1.0) == pytest.approx(5e10)
    assert curve_rate(CURVES, "copy", 2.0**40) == pytest.approx(1e10)
    assert curve_rate(CURVES, "tangent", 2.0**15, 16) == pytest.approx(1.6e10)
    assert curve_rate(CURVES, "tangent", 2.0**15, 1000) == pytest.approx(1.6e10)
    assert curve_rate(CURVES, "fill", 2.0**20) == pytest.approx(8e10)  # one point: flat
    assert curve_rate(CURVES, "nothing", 2.0**20) is None


def test_curves_are_log_log_linear_and_continuous_between_points():
    # halfway in log size: the geometric mean; halfway in log lanes (4): the geometric mean
    assert curve_rate(CURVES, "copy", 2.0**19) == pytest.approx(math.sqrt(5e10 * 1e10))
    assert curve_rate(CURVES, "tangent", 2.0**15, 4) == pytest.approx(math.sqrt(4e9 * 1.6e10))
    for kind, lanes in (("tangent", 1), ("tangent", 16), ("tangent", 4), ("copy", 0),
                        ("alloc", 0), ("adjoint", 7)):
        for size in (2.0**15, 2.0**23, 2.0**19):
            here = curve_rate(CURVES, kind, size, lanes)
            for nearby in (size * (1 - 1e-7), size * (1 + 1e-7)):
                assert curve_rate(CURVES, kind, nearby, lanes) == pytest.approx(here, rel=1e-5)
        assert curve_rate(CURVES, kind, 2.0**19, lanes + 1e-7) == \
            pytest.approx(curve_rate(CURVES, kind, 2.0**19, lanes), rel=1e-5)


def test_time_model_prices_products_and_copies_from_the_curves():
    shape = ChainShape.from_spec("dense:1024 dense:1024", 1024)
    profile = dataclasses.replace(synthetic_profile(), curves=CURVES)
    tangent, copy = lane_pass(shape, 1, 16, "tangent"), copy_pass(2**20)
    plan_like = type("P", (), {})()
    plan_like.passes, plan_like.shape, plan_like.bytes_held = (tangent, copy), shape, 0
    (t_s, t_bound), (c_s, _) = pass_prices(plan_like, profile)
    pass_s = profile.own_costs.pass_s
    rate = curve_rate(CURVES, "tangent", 8 * 1024 * 1024, 16)
    assert t_s - pass_s == pytest.approx(tangent.madds / rate) and t_bound == "compute"
    # a copy is priced by its curve where the call's bandwidth is faster
    c_rate = curve_rate(CURVES, "copy", copy.bytes / 2)
    bandwidth = profile.bandwidth_at(working_set(plan_like))
    assert c_s - pass_s == pytest.approx(max(copy.bytes / c_rate, copy.bytes / bandwidth))
    without = pass_prices(plan_like, synthetic_profile())
    assert without[0][0] != pytest.approx(t_s)  # the curves changed the price


def test_measured_curves_hold_every_kind_at_positive_rates():
    rows = measure_curves(quick=True)
    assert {r[0] for r in rows} == {"tangent", "adjoint", *BLOCKS}
    assert "alloc-numpy" in BLOCKS
    assert all(math.isfinite(r[3]) and r[3] > 0 for r in rows)
    assert {r[1] for r in rows if r[0] == "tangent"} == {1, 16}


def test_a_cached_profile_with_curves_is_reused(profile_dir, monkeypatch):
    profile = dataclasses.replace(synthetic_profile(), curves=CURVES)
    machine.save(profile)

    def refuse(**_):
        raise AssertionError("calibrated again")

    monkeypatch.setattr(calibration, "calibrate", refuse)
    assert machine_current.current_profile().curves == CURVES


def test_a_schema_3_profile_is_measured_again_after_a_notice(profile_dir, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(calibration, "calibrate", lambda key=None, quick=False:
                        calls.append(key) or dataclasses.replace(synthetic_profile(key),
                                                                 curves=CURVES))
    key = machine.machine_key()
    old_key = {**key, "schema": 3}
    profile_dir.mkdir()
    machine.cache_path(old_key).write_text(json.dumps(synthetic_profile(old_key).to_dict()
                                                      | {"schema": 3}))
    fresh = machine_current.current_profile()
    err = capsys.readouterr().err
    assert len(calls) == 1 and err.count("\n") == 1 and "older chainbench" in err
    assert fresh.curves == CURVES and machine.load_cached().curves == CURVES


def test_an_operation_level_tape_is_priced_as_numpy_allocates_it():
    """op-reverse's tape comes from numpy (huge pages for a large one), a kernel's buffers
    from Numba: two curves, and the plan says which prices which."""
    from chainbench.cost.operations import op_reverse_plan
    from chainbench.cost.time_model import _curve_kind

    plan = op_reverse_plan(cb.ChainShape.from_spec("dense:64 tanh dense:1", 64))
    tape, work = (p for p in plan.passes if p.rule == "alloc")
    assert (tape.holds, tape.allocator) == ("tape", "numpy")
    assert _curve_kind(tape)[0] == "alloc-numpy" and _curve_kind(work)[0] == "alloc"
