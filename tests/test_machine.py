"""The machine profile: memory levels found in synthetic and measured streaming curves, the
profile's reading methods, its cache, one real (quick) calibration, and `chainbench
calibrate`."""

from __future__ import annotations

import dataclasses
import json
import re

import numba
import numpy as np
import pytest
from machine_helpers import (
    SYNTHETIC_LEVELS,
    KiB,
    MiB,
    stream_sizes,
    synthetic_profile,
    synthetic_rates,
)
from threadpoolctl import threadpool_info

from chainbench.cli import calibrate as calibrate_cli
from chainbench.cli import main, register
from chainbench.machine import calibrate as calibration
from chainbench.machine import current as machine_current
from chainbench.machine import profile as machine
from chainbench.machine.levels import detect_levels, name_after_caches
from chainbench.machine.overheads import Overheads
from chainbench.machine.profile import MachineProfile, MemoryLevel
from chainbench.provenance import cache_sizes

register(calibrate_cli)  # idempotent: the CLI package may list it already

STAIRCASES = {
    "2 levels": ((8 * MiB, 6e10), (None, 2e10)),
    "3 levels": ((512 * KiB, 9e10), (16 * MiB, 5e10), (None, 1.5e10)),
    "4 levels": SYNTHETIC_LEVELS,
}
#: (per-call overhead s, multiplicative noise σ, outliers, capacity tolerance in octaves):
#: clean, noisy, noisy with two 30 % slow points (one next to a transition moves it by up to
#: a step), and a fixed call cost that makes the smallest sizes overhead-bound.
CONDITIONS = {"clean": (0.0, 0.0, 0, 0.5), "noise": (0.0, 0.03, 0, 0.5),
              "outliers": (0.0, 0.05, 2, 1.0), "overhead": (1e-8, 0.03, 0, 0.5)}
#: How far a level's bandwidth may lie from the staircase's: the noise only slows, and the
#: overhead slows the first plateau too (that is what a call there costs).
BANDWIDTH_RTOL = {"clean": 0.02, "noise": 0.08, "outliers": 0.12, "overhead": 0.25}


def _names(levels):
    return [level.name for level in levels]


def _expected_names(staircase):
    return [f"L{i + 1}" for i in range(len(staircase) - 1)] + ["DRAM"]


# --- levels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("staircase", STAIRCASES)
def test_levels_of_a_synthetic_staircase(staircase, condition):
    """Every level found, in order, its capacity within √2 (one measured step) of the truth
    (2 with outliers) and its bandwidth within BANDWIDTH_RTOL, over ten noise draws."""
    truth = STAIRCASES[staircase]
    overhead_s, noise, outliers, octaves = CONDITIONS[condition]
    sizes = stream_sizes()
    for seed in range(10):
        rates = synthetic_rates(sizes, truth, overhead_s=overhead_s, noise=noise,
                                outliers=outliers, seed=seed)
        found = detect_levels(sizes, rates)
        assert _names(found) == _expected_names(truth), (seed, found)
        assert found[-1].capacity_bytes is None
        for level, (capacity, bandwidth) in zip(found, truth):
            if capacity is not None:
                assert abs(np.log2(level.capacity_bytes / capacity)) <= octaves, (seed, level)
            assert abs(np.log(level.bandwidth_Bps / bandwidth)) < np.log1p(
                BANDWIDTH_RTOL[condition]), (seed, level)


def test_levels_at_quick_steps():
    """Factor-2 steps (calibrate(quick=True)) find the same levels on a clean curve."""
    sizes = stream_sizes(step=2.0)
    truth = STAIRCASES["3 levels"]
    found = detect_levels(sizes, synthetic_rates(sizes, truth, noise=0.02, seed=1))
    assert _names(found) == _expected_names(truth)
    assert abs(np.log2(found[0].capacity_bytes / truth[0][0])) <= 0.5


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_no_drop_is_one_level(noise):
    sizes = stream_sizes()
    found = detect_levels(sizes, synthetic_rates(sizes, ((None, 3e10),), noise=noise))
    assert found == (MemoryLevel("DRAM", None, found[0].bandwidth_Bps),)
    assert found[0].bandwidth_Bps == pytest.approx(3e10, rel=0.08)


def test_overhead_bound_sizes_are_not_a_level():
    """A fixed 0.5 µs per call makes the rate rise 5× over the smallest sizes: not a level,
    and the plateau's bandwidth is not dragged down by them."""
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, STAIRCASES["2 levels"], overhead_s=5e-7)
    assert rates[0] < 0.25 * rates.max()  # the curve does rise
    found = detect_levels(sizes, rates)
    assert _names(found) == ["L1", "DRAM"]
    assert found[0].bandwidth_Bps > 0.85 * 6e10


def test_a_gently_rising_start_is_left_out_of_the_first_level():
    """At 30 ns a call the 48 KiB L1 only nears its rate at its last few sizes; the sizes
    below, slower by more than 10 %, would otherwise join it and hide it."""
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, SYNTHETIC_LEVELS, overhead_s=3e-8)
    found = detect_levels(sizes, rates)
    assert _names(found) == ["L1", "L2", "L3", "DRAM"]
    assert found[0].bandwidth_Bps > 0.75 * SYNTHETIC_LEVELS[0][1]


def test_a_short_dip_is_not_a_level():
    """Two slow points in a row (a burst of load) survive the running median but are too
    short to be a plateau: no level between L1 and DRAM."""
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, STAIRCASES["2 levels"])
    rates[8:10] *= 0.5
    assert _names(detect_levels(sizes, rates)) == ["L1", "DRAM"]


@pytest.mark.parametrize("slow", [-3, -4])
def test_one_slow_point_does_not_hide_the_last_level(slow):
    """A slow point in DRAM's plateau (measured: 11 GB/s among 17-21 GB/s) leaves runs too
    short on their own: they must join again, not vanish with it. The largest size is a
    shade under 256 MiB, as calibrate's matrix shapes make it, and still spans an octave
    with the two before it."""
    sizes = stream_sizes()
    sizes[-1] *= 1 - 1e-4
    rates = np.where(sizes < 60 * MiB, 6e10, 2e10)  # DRAM's plateau: the last five sizes
    rates[slow] *= 0.55
    found = detect_levels(sizes, rates)
    assert _names(found) == ["L1", "DRAM"]
    assert found[-1].bandwidth_Bps == pytest.approx(2e10)


def test_a_small_drop_is_detail_not_a_level():
    """A 15 % step is below min_drop (25 %); at min_drop=0.1 it counts."""
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, ((1 * MiB, 6e10), (None, 5.1e10)))
    assert _names(detect_levels(sizes, rates)) == ["DRAM"]
    assert _names(detect_levels(sizes, rates, min_drop=0.1)) == ["L1", "DRAM"]


def test_levels_do_not_depend_on_the_order_of_points():
    sizes = stream_sizes()
    rates = synthetic_rates(sizes, STAIRCASES["3 levels"], noise=0.03, seed=3)
    order = np.random.default_rng(0).permutation(sizes.size)
    assert detect_levels(sizes[order], rates[order]) == detect_levels(sizes, rates)


@pytest.mark.parametrize("sizes, rates, message", [
    ([], [], "non-empty"),
    ([1.0, 2.0], [1.0], "one length"),
    ([1.0, 2.0], [1.0, -1.0], "positive"),
    ([1.0, 2.0], [1.0, float("nan")], "finite"),
])
def test_bad_curves_fail_loudly(sizes, rates, message):
    with pytest.raises(ValueError, match=message):
        detect_levels(sizes, rates)


# --- the profile: reading and storing --------------------------------------------------------


def test_profile_round_trips_through_json():
    profile = synthetic_profile()
    again = MachineProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile
    assert isinstance(again.gemm[0][0], int) and isinstance(again.levels[0], MemoryLevel)


def test_profile_of_another_schema_is_refused():
    doc = synthetic_profile().to_dict() | {"schema": 0}
    with pytest.raises(ValueError, match="schema"):
        MachineProfile.from_dict(doc)


def test_profile_of_schema_1_reads_without_its_lanes_grid():
    doc = synthetic_profile().to_dict() | {"schema": 1}
    del doc["lanes"]
    old = MachineProfile.from_dict(doc)
    assert old.lanes == () and old.gemm == synthetic_profile().gemm
    assert machine.machine_key()["schema"] == machine.SCHEMA != 1  # a new cache file: measured anew


def test_regime_and_bands_of_a_synthetic_profile():
    """Levels L1 48 KiB, L2 1 MiB, L3 32 MiB, DRAM; within 1.5× of a capacity is a
    transition."""
    profile = synthetic_profile()
    names = [name for name, _, _ in profile.bands()]
    assert names == ["L1", "L2", "L3", "DRAM"]
    low, high = {name: (lo, hi) for name, lo, hi in profile.bands()}["L2"]
    assert low == pytest.approx(48 * KiB * 1.5) and high == pytest.approx(MiB / 1.5)
    assert profile.regime(16 * KiB) == "L1"
    assert profile.regime(40 * KiB) == "L1→L2"
    assert profile.regime(60 * KiB) == "L1→L2"
    assert profile.regime(256 * KiB) == "L2"
    assert profile.regime(1 * MiB) == "L2→L3"
    assert profile.regime(8 * MiB) == "L3"
    assert profile.regime(40 * MiB) == "L3→DRAM"
    assert profile.regime(1 << 30) == "DRAM"
    assert profile.level_of(40 * KiB).name == "L1"
    assert profile.level_of(2 * MiB).name == "L3"
    assert profile.level_of(1 << 40).name == "DRAM"
    assert profile.peak_madds_per_s == 2e10


def test_bands_skip_a_level_too_narrow_to_have_an_inside():
    profile = MachineProfile(
        key={}, created="", call_overhead_s=1e-7, gemm=((16, 1e9),), stream=((1.0, 1.0),),
        levels=(MemoryLevel("L1", 100e3, 1e11), MemoryLevel("L2", 200e3, 5e10),
                MemoryLevel("DRAM", None, 1e10)))
    assert [name for name, _, _ in profile.bands()] == ["L1", "DRAM"]
    assert profile.regime(180e3) == "L2→DRAM"


def test_bandwidth_at_interpolates_the_measured_curve():
    profile = synthetic_profile()
    size, rate = profile.stream[7]
    assert profile.bandwidth_at(size) == pytest.approx(rate)
    (s0, r0), (s1, r1) = profile.stream[7:9]
    middle = profile.bandwidth_at((s0 * s1) ** 0.5)
    assert middle == pytest.approx((r0 * r1) ** 0.5)
    assert profile.bandwidth_at(1.0) == pytest.approx(profile.stream[0][1])
    assert profile.bandwidth_at(1e15) == pytest.approx(profile.stream[-1][1])


# --- the cache ------------------------------------------------------------------------------


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    folder = tmp_path / "profiles"
    monkeypatch.setenv(machine.PROFILE_DIR_ENV, str(folder))
    return folder


def test_cache_saves_and_loads_by_key(profile_dir):
    profile = synthetic_profile()
    path = machine.save(profile)
    assert path.parent == profile_dir and path == machine.cache_path()
    assert machine.load_cached() == profile
    other = dict(profile.key, cpu_model="another CPU")
    assert machine.cache_path(other) != path and machine.load_cached(other) is None
    path.write_text("{not json")
    assert machine.load_cached() is None


def _damage(doc: dict, how: str) -> None:
    if how == "no levels":
        doc["levels"] = []
    elif how == "negative stream":
        doc["stream"] = [[s, -r] for s, r in doc["stream"]]
    elif how == "NaN bandwidth":
        doc["levels"][0]["bandwidth_Bps"] = float("nan")
    elif how == "zero gemm":
        doc["gemm"] = [[k, 0.0] for k, _ in doc["gemm"]]
    elif how == "levels of another type":
        doc["levels"] = "L1"
    elif how == "not an object":
        doc.clear()


@pytest.mark.parametrize("how", ["no levels", "negative stream", "NaN bandwidth", "zero gemm",
                                 "levels of another type"])
def test_a_damaged_profile_cache_is_measured_again_with_a_notice(profile_dir, monkeypatch,
                                                                 capsys, how):
    import chainbench as cb

    calls = []
    monkeypatch.setattr(calibration, "calibrate",
                        lambda key=None, quick=False: calls.append(key) or synthetic_profile(key))
    path = machine.save(synthetic_profile(machine.machine_key()))
    doc = json.loads(path.read_text())
    _damage(doc, how)
    path.write_text(json.dumps(doc))
    profile, why = machine.read_cached()
    assert profile is None and why
    assert machine.load_cached() is None
    fresh = machine_current.current_profile()
    err = capsys.readouterr().err
    assert len(calls) == 1 and err.count("\n") == 1
    assert "damaged machine profile" in err and "measuring this machine again" in err
    assert fresh.levels and machine.load_cached() == fresh  # the cache is whole again
    t = cb.predict_time(cb.Chain.from_spec("dense:8 tanh dense:1", 8).shape, "auto")
    assert np.isfinite(t.seconds) and t.seconds > 0


def test_a_missing_profile_cache_is_measured_without_a_notice(profile_dir, monkeypatch,
                                                              capsys):
    monkeypatch.setattr(calibration, "calibrate",
                        lambda key=None, quick=False: synthetic_profile(key))
    assert machine.read_cached() == (None, None)
    machine_current.current_profile()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("overheads", [{"call_s": -1e-6, "pass_s": 0.0},
                                       {"call_s": float("nan"), "pass_s": 0.0},
                                       {"call_s": 1e-6, "pass_s": 0.0, "madd_s": [["tanh", 1.0]]},
                                       ["not", "an", "object"]])
def test_damaged_overheads_damage_the_profile(profile_dir, monkeypatch, capsys, overheads):
    monkeypatch.setattr(calibration, "calibrate",
                        lambda key=None, quick=False: synthetic_profile(key))
    path = machine.save(synthetic_profile())
    doc = json.loads(path.read_text())
    doc["overheads"] = overheads
    path.write_text(json.dumps(doc))
    assert machine.read_cached()[0] is None and machine.read_cached()[1]
    machine_current.current_profile()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged machine profile" in err


def test_overheads_of_other_code_are_left_out_and_measured_again(profile_dir):
    stale = dataclasses.replace(synthetic_profile(), overheads=Overheads(1e-6, 1e-8, code="old"))
    machine.save(stale)
    cached = machine.load_cached()
    assert cached.overheads is None and not cached.own_costs.measured
    assert cached.own_costs.call_s == stale.call_overhead_s  # the stand-in
    assert cached == dataclasses.replace(stale, overheads=None)  # the rest is kept


def test_caches_of_an_older_chainbench_are_measured_again_with_a_notice(profile_dir,
                                                                        monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(calibration, "calibrate",
                        lambda key=None, quick=False: calls.append(key) or synthetic_profile(key))
    key = machine.machine_key()
    old_key = {**key, "schema": 2}
    old = synthetic_profile(old_key).to_dict() | {"schema": 2, "overheads": None}
    profile_dir.mkdir()
    old_profile = machine.cache_path(old_key)
    old_profile.write_text(json.dumps(old))
    old_overheads = old_profile.with_name(old_profile.name.replace("profile-", "overheads-"))
    old_overheads.write_text(json.dumps({"call_s": 1e-6, "pass_s": 1e-8, "code": "x"}))
    assert machine.older_caches(key) == [old_profile, old_overheads]
    fresh = machine_current.current_profile()
    err = capsys.readouterr().err
    assert len(calls) == 1 and err.count("\n") == 1
    assert "older chainbench" in err and "measuring this machine again" in err
    assert machine.load_cached() == fresh and machine.older_caches(key) == []
    machine_current._CURRENT = None
    machine_current.current_profile()  # said once: the old files are gone
    assert len(calls) == 1 and capsys.readouterr().err == ""
    # the same file, of an older schema, is measured again too
    machine.cache_path(key).write_text(json.dumps(fresh.to_dict() | {"schema": 2}))
    assert machine.read_cached(key)[0] is None and "schema 2" in machine.read_cached(key)[1]


def test_machine_key_does_not_depend_on_what_was_loaded():
    """numba's BLAS (scipy's) is in the key whether or not scipy.linalg was imported."""
    key = machine.machine_key()
    assert len(key["blas"]) == sum(1 for i in threadpool_info() if i.get("user_api") == "blas")
    assert machine.machine_key() == key


def test_current_profile_reads_the_cache_and_calibrates_only_when_told(profile_dir,
                                                                       monkeypatch):
    calls, told = [], []

    def fake_calibrate(key=None, quick=False):
        calls.append(key)
        return synthetic_profile(key)

    monkeypatch.setattr(calibration, "calibrate", fake_calibrate)
    first = machine_current.current_profile(announce=told.append)  # nothing cached: measures
    assert len(calls) == 1 and told and machine.load_cached() == first
    machine_current._CURRENT = None
    assert machine_current.current_profile(announce=told.append) == first  # from the file
    assert len(calls) == 1 and len(told) == 1
    assert machine_current.current_profile() is machine_current.current_profile()  # held in the process
    machine_current.current_profile(force=True)
    assert len(calls) == 2


def test_the_suite_runs_on_a_synthetic_profile():
    """tests/conftest.py: no test calibrates by accident."""
    assert machine_current.current_profile() == synthetic_profile()


# --- a real calibration ---------------------------------------------------------------------


def _threads():
    return numba.get_num_threads(), sorted((i["filepath"], i["num_threads"])
                                           for i in threadpool_info())


@pytest.fixture(scope="module")
def calibrated():
    """One real calibrate(quick=True), with the thread settings before and after it."""
    import scipy.linalg.cython_blas  # noqa: F401  (listed by threadpool_info before and after)

    before = _threads()
    profile = calibration.calibrate(quick=True)
    return before, profile, _threads()


@pytest.fixture
def measured(calibrated):
    return calibrated[1]


def test_quick_calibration_is_plausible(measured):
    profile = measured
    assert 0 < profile.call_overhead_s < 1e-3
    assert profile.call_overhead_s <= profile.extra["call_overhead_median_s"]
    assert [k for k, _ in profile.gemm] == list(calibration.GEMM_K_QUICK)
    assert profile.peak_madds_per_s > 1e8
    assert all(rate > 0 for _, rate in profile.gemm)
    grid = {(side, k, c) for side, k, c, _ in profile.lanes}
    assert grid == {(side, k, c) for side in "MKN" for k in calibration.LANES_K_QUICK
                    for c in calibration.LANES_C_QUICK}
    assert all(1e7 < rate < 1e12 for *_, rate in profile.lanes)
    sizes = [size for size, _ in profile.stream]
    assert sizes == sorted(sizes) and sizes[0] <= 8 * KiB and sizes[-1] >= 64 * MiB
    assert all(1e8 < rate < 1e13 for _, rate in profile.stream)
    assert profile.key == machine.machine_key() and profile.sysfs_caches == cache_sizes()
    assert 0 < profile.calibration_s < 30 and profile.created
    assert 0 <= profile.extra["preempted_fraction"] < 1


def test_levels_of_the_measured_curve(measured):
    """The real curve: levels in order, capacities growing inside the measured range,
    bandwidths falling and within the measured rates; the last level is DRAM."""
    levels = measured.levels
    assert levels == name_after_caches(detect_levels(*zip(*measured.stream)),
                                       measured.sysfs_caches)
    assert levels[-1].name == "DRAM" and levels[-1].capacity_bytes is None
    sizes, rates = zip(*measured.stream)
    capacities = [level.capacity_bytes for level in levels[:-1]]
    assert capacities == sorted(capacities)
    assert all(sizes[0] < c < sizes[-1] for c in capacities)
    bandwidths = [level.bandwidth_Bps for level in levels]
    assert bandwidths == sorted(bandwidths, reverse=True)
    assert all(min(rates) <= b <= max(rates) for b in bandwidths)


def test_calibration_restores_thread_settings(calibrated):
    before, _, after = calibrated
    assert after == before


# --- the command line -----------------------------------------------------------------------


def test_cli_shows_the_cached_profile(profile_dir, capsys):
    machine.save(synthetic_profile())
    assert main(["calibrate"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "300 ns per call" in out
    assert "k=512: 20 Gmadd/s" in out
    assert re.search(r"L2 +up to 1 MiB +70 GB/s", out) and re.search(r"DRAM +beyond +15 GB/s", out)
    assert "L1d 48 KiB  L2 1 MiB  L3 32 MiB" in out
    assert str(machine.cache_path()) in out and "cached, measured 2000-01-01" in out
    # chainbench's own costs, from the same cached profile: nothing measured now
    assert "2 µs per Jacobian call, 50 ns per layer pass" in out
    assert "measuring" not in captured.err


def test_cli_says_when_the_machine_was_busy(profile_dir, capsys):
    busy = synthetic_profile()
    busy = MachineProfile.from_dict(busy.to_dict() | {"extra": {"preempted_fraction": 0.38,
                                                                "load_average": [3.4, 12.6]}})
    machine.save(busy)
    assert main(["calibrate"]) == 0
    assert "interrupted 38% of the samples, load average 3.4 → 12.6" in capsys.readouterr().out


def test_cli_json_is_the_profile(profile_dir, capsys):
    machine.save(synthetic_profile())
    assert main(["calibrate", "--json"]) == 0
    assert MachineProfile.from_dict(json.loads(capsys.readouterr().out)) == synthetic_profile()


def test_cli_force_measures_and_caches(profile_dir, measured, monkeypatch, capsys):
    machine.save(synthetic_profile())
    monkeypatch.setattr(calibration, "calibrate", lambda key=None, quick=False: measured)
    assert main(["calibrate", "--force"]) == 0
    captured = capsys.readouterr()
    assert "calibrating" in captured.err and "measured now" in captured.out
    # the machine and chainbench's own costs on it, measured again into the one cache file
    assert "overheads" in captured.err and "per Jacobian call" in captured.out
    cached = machine.load_cached()
    assert dataclasses.replace(cached, overheads=None) == measured
    assert cached.overheads.measured and cached.overheads != synthetic_profile().overheads


def _fake_clocks(monkeypatch, steps):
    """Clocks a run(reps) call advances by the next (thread CPU ns, wall ns) of ``steps``."""
    clock = {"wall": 0, "cpu": 0}
    steps = iter(steps)

    def run(reps):
        cpu, wall = next(steps)
        clock["cpu"] += cpu
        clock["wall"] += wall

    monkeypatch.setattr(calibration.time, "thread_time_ns", lambda: clock["cpu"])
    monkeypatch.setattr(calibration.time, "perf_counter_ns", lambda: clock["wall"])
    return run


def test_preempted_samples_do_not_count(monkeypatch):
    """A sample whose thread ran under 95 % of its wall time was interrupted by another
    process: it does not count, and sampling goes on until enough clean ones are in."""
    run = _fake_clocks(monkeypatch, [(50, 1000), (60, 900), (100, 100), (120, 120)])
    tally = calibration._Tally()
    assert calibration._best_seconds(run, 1, 2, tally) == pytest.approx(100e-9)
    assert (tally.samples, tally.preempted) == (4, 2)


def test_when_every_sample_is_preempted_the_least_is_taken(monkeypatch):
    run = _fake_clocks(monkeypatch, [(50, 1000), (60, 900), (70, 950)])
    assert calibration._best_seconds(run, 1, 1) == pytest.approx(900e-9)  # 3 tries


def test_levels_are_named_after_the_reported_cache_nearest_their_measured_capacity():
    found = (MemoryLevel("L1", 22 * MiB, 6e10), MemoryLevel("L2", 300 * MiB, 3e10),
             MemoryLevel("DRAM", None, 2e10))
    caches = {"L1d": 32 * KiB, "L2": 512 * KiB, "L3": 32 * MiB}
    named = name_after_caches(found, caches)
    # 22 MiB is within 2x of the 32 MiB L3; 300 MiB matches nothing the OS reports
    assert [lv.name for lv in named] == ["L3", "cache2", "DRAM"]
    assert [lv.capacity_bytes for lv in named] == [lv.capacity_bytes for lv in found]
    assert [lv.name for lv in name_after_caches(found, {})] == ["cache1", "cache2", "DRAM"]
