"""The time model: passes that add up to the counted work, prices that follow the profile,
and the choices and reports built on them. Runs on the synthetic profile (conftest)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from chain_helpers import random_chain
from machine_helpers import SYNTHETIC_OPERATIONS, synthetic_lane_rate, synthetic_profile

import chainbench as cb
from chainbench.cli import main
from chainbench.cost import work as P
from chainbench.cost.sweeps import forward_plan
from chainbench.cost.time_model import gemm_rate, price, product_rate
from chainbench.engines.registry import ENGINES
from chainbench.errors import NotComplexSafe
from chainbench.harness.analysis.tables import prediction_error

EXACT = [name for name, e in ENGINES.items() if e.family != "peer"]
COUNTING = [name for name, e in ENGINES.items() if e.counts]
#: Every counter a plan predicts (Counts' fields).
COUNTS = [f.name for f in dataclasses.fields(cb.Prediction)]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("mode", COUNTING)
def test_the_plans_counters_are_the_kernels_counters(seed, mode):
    """Every registered engine that counts, on random chains and chunks: the counters
    summed over its plan's passes equal those its kernels fill, field by field."""
    rng = np.random.default_rng(seed)
    chain = random_chain(rng, depth=1 + seed % 5)
    impl = ENGINES[mode]
    chunk = None if impl.lanes is None else int(rng.integers(1, impl.lane_count(chain.shape) + 1))
    x = rng.standard_normal(chain.n)
    try:
        _, stats = cb.jacobian(chain, x, mode, chunk, return_stats=True)
    except NotComplexSafe:  # the complex step refuses a layer without a complex rule
        return
    planned = impl.plan(chain.shape, chunk if chunk is not None else impl.chunk_for(chain.shape))
    fields = COUNTS if impl.lanes else [k for k in COUNTS if k != "chunk"]  # no chunk to count
    assert {k: getattr(planned.prediction(), k) for k in fields} == \
        {k: getattr(stats, k) for k in fields}


def test_passes_follow_the_chunk():
    shape = cb.ChainShape.from_spec("dense:64 tanh dense:64", 48)
    one, all_ = forward_plan(shape, 1), forward_plan(shape, 48)
    assert one.runs == 48 * all_.runs  # every pass but the allocation repeats per sweep
    for chunk, plan in ((1, one), (48, all_)):  # the value sweep repeats per sweep
        assert plan.prediction().madds == cb.predict(shape, "forward", chunk).madds
    assert max(p.lanes for p in all_.passes) == 48 and max(p.lanes for p in one.passes) == 1


def test_a_matrix_vector_pass_is_priced_by_its_bytes_at_the_working_sets_bandwidth():
    profile = synthetic_profile()
    gemv = P.Pass(madds=1000 * 1000, bytes=8 * 1000 * 1000, lanes=1, product=True)
    t = price([gemv], profile, 64 * 2**20)
    assert t.compute_s == 0 and t.bound == "memory" and t.level == "DRAM"
    assert t.memory_s == pytest.approx(8e6 / profile.bandwidth_at(64 * 2**20))
    assert t.seconds == pytest.approx(t.memory_s + 2e-6 + 5e-8)  # + the synthetic overheads


def test_without_a_lanes_grid_a_product_is_priced_at_the_square_rate_of_its_small_side():
    profile = dataclasses.replace(synthetic_profile(), lanes=())  # a schema-1 profile
    gemm = P.Pass(madds=512**3, bytes=8 * 3 * 512**2, lanes=512, product=True,
                  dims=(512, 512, 512))
    t = price([gemm], profile, 6 * 2**20)
    assert t.bound == "compute" and t.compute_s == pytest.approx(512**3 / 2e10)
    assert gemm_rate(profile, 512) == pytest.approx(2e10)
    assert gemm_rate(profile, 2) == gemm_rate(profile, 16) == pytest.approx(2e9)  # held at k=16
    assert 8e9 < gemm_rate(profile, 48) < 1.5e10  # interpolated log-log between 32 and 64


def test_a_product_is_priced_at_the_rate_measured_for_its_shape():
    profile = synthetic_profile()
    rate = synthetic_lane_rate
    assert product_rate(profile, (1024, 1024, 16)) == pytest.approx(rate("N", 1024, 16))
    assert product_rate(profile, (16, 1024, 1024)) == pytest.approx(rate("M", 1024, 16))
    assert product_rate(profile, (1024, 16, 1024)) == pytest.approx(rate("K", 1024, 16))
    between = product_rate(profile, (512, 512, 8))  # log-log between k = 256 and k = 1024
    assert rate("N", 256, 8) < between < rate("N", 1024, 8)
    assert product_rate(profile, (4096, 4096, 1000)) == pytest.approx(rate("N", 1024, 256))
    # forward's lanes are a product's columns, reverse's rows its rows: each priced as such
    shape = cb.ChainShape.from_spec("dense:1024 dense:1024", 1024)
    tangent, adjoint = P.lane_pass(shape, 1, 4, "tangent"), P.lane_pass(shape, 1, 4, "adjoint")
    assert (tangent.dims, adjoint.dims) == ((1024, 1024, 4), (4, 1024, 1024))
    assert price([tangent], profile, 2**20).compute_s == pytest.approx(
        tangent.madds / rate("N", 1024, 4))
    assert price([adjoint], profile, 2**20).compute_s == pytest.approx(
        adjoint.madds / rate("M", 1024, 4))
    # a plan's block product through a narrow layer: its inner size is the small side
    assert P.product_pass(1000, 10, 1000).dims == (1000, 10, 1000)
    # a profile measured before the grid existed prices by the square curve
    old = dataclasses.replace(profile, lanes=())
    assert product_rate(old, (512, 512, 8)) == gemm_rate(old, 8)


def test_auto_weighs_every_chunk_and_runs_the_one_it_predicts_fastest(monkeypatch):
    from chainbench import api
    from chainbench.machine import current

    # a machine on which products of many lanes are slow: auto should push few at a time
    slow = dataclasses.replace(synthetic_profile(), created="slow-wide",
                               lanes=tuple((side, k, c, 2e10 / c) for side in "MKN"
                                           for k in (64, 256, 1024) for c in (2, 16, 256)))
    monkeypatch.setattr(current, "_CURRENT", slow)
    chain = cb.Chain.from_spec("dense:256 tanh dense:256", 256, seed=0)
    mode, chunk = api.auto_choice(chain)
    default = ENGINES[mode].chunk_for(chain.shape)
    assert chunk < default and chunk in api.auto_chunks(256, default)
    best = min((cb.predict_time(chain, m, c).seconds, m, c) for m in api.AUTO_CHOICES
               for c in api.auto_chunks(256, ENGINES[m].chunk_for(chain.shape)))
    assert best[1:] == (mode, chunk)
    x = np.random.default_rng(0).standard_normal(256)
    J, stats = cb.jacobian(chain, x, "auto", return_stats=True)
    assert (stats.mode, stats.chunk) == (mode, chunk)
    np.testing.assert_allclose(J, cb.jacobian(chain, x, "reverse"), rtol=1e-12, atol=1e-12)
    assert api.default_chunk(chain, "auto") == chunk
    assert cb.predict(chain, "auto").chunk == chunk


def test_auto_chunks_are_the_powers_of_two_below_the_default_and_the_default():
    from chainbench.api import auto_chunks

    assert auto_chunks(512, 512) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert auto_chunks(10, 10) == [1, 2, 4, 8, 10]
    assert auto_chunks(1, 1) == [1]
    assert auto_chunks(4096, 2048) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]


def test_the_gradient_favours_reverse_and_its_ratio_grows_with_n():
    ratios = []
    for n in (64, 256, 1024):
        shape = cb.ChainShape.from_spec(f"dense:{n} tanh dense:{n} tanh dense:1", n)
        f, r = cb.predict_time(shape, "forward"), cb.predict_time(shape, "reverse")
        ratios.append(f.seconds / r.seconds)
    assert ratios[0] > 1 and ratios[0] < ratios[1] < ratios[2]
    assert math.log(ratios[2] / ratios[0]) / math.log(16) > 0.5  # ∝ n, give or take


def test_auto_takes_the_mode_predicted_faster():
    tall = cb.Chain.from_spec("dense:32 tanh dense:64", 1, seed=0)
    wide = cb.Chain.from_spec("dense:32 tanh dense:1", 64, seed=0)
    for chain in (tall, wide):
        fwd, rev = cb.predict_time(chain, "forward"), cb.predict_time(chain, "reverse")
        _, stats = cb.jacobian(chain, np.zeros(chain.n), "auto", return_stats=True)
        assert stats.mode == ("forward" if fwd.seconds <= rev.seconds else "reverse")
    assert cb.jacobian(tall, np.zeros(1), "auto", return_stats=True)[1].mode == "forward"


def test_predict_time_checks_its_arguments():
    shape = cb.ChainShape.from_spec("dense:8 tanh", 4)
    with pytest.raises(ValueError, match="chunk must be between 1 and"):
        cb.predict_time(shape, "forward", chunk=5)
    with pytest.raises(ValueError, match="unknown mode"):
        cb.predict_time(shape, "sideways")


def test_prediction_error_reports_the_misses_per_engine():
    df = pd.DataFrame({
        "status": "ok", "engine": ["forward"] * 4 + ["reverse"] * 2, "n": [1, 2, 3, 4, 5, 6],
        "m": 1, "depth": 2, "time_median_s": [1.0, 2.0, 3.0, 8.0, 1.0, 1.0],
        "time_predicted_s": [1.0, 2.0, 3.0, 1.0, 2.0, 0.5]})
    table = prediction_error(df).set_index("engine")
    assert table.loc["forward", "points"] == 4
    assert table.loc["forward", "median_abs_log"] == pytest.approx(0.0)
    assert table.loc["forward", "worst"].startswith("n=4 ") and "×8.00" in table.loc["forward",
                                                                                 "worst"]
    assert table.loc["reverse", "median_abs_log"] == pytest.approx(math.log(2))


def test_predict_command_ranks_every_exact_mode_and_recommends_one(capsys):
    assert main(["predict", "dense:1000 dense:10 dense:1000", "--n", "1000", "--m", "1000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("widths 1000→1000→10→1000→1000")
    listed = [line.split()[0] for line in lines[2:-2]]
    assert sorted(listed) == sorted(EXACT)
    picked, chunk = cb.auto_choice(cb.ChainShape.from_spec("dense:1000 dense:10 dense:1000 "
                                                           "dense:1000", 1000))
    assert lines[-2].startswith(f"mode='auto' runs {picked} at chunk {chunk} ")
    assert lines[-1].startswith("recommended: mode='") and "predicted" in lines[-1]
    assert main(["predict", "dense:8 nope", "--n", "4"]) == 2


@pytest.mark.parametrize("spec, n", [("dense:1000 dense:10 dense:1000 dense:1000", 1000),
                                     ("dense:64 tanh dense:8 dense:256 softmax", 512),
                                     ("dense:300 dense:300 dense:300", 300)])
def test_optimal_is_predicted_no_slower_than_the_pure_modes(spec, n):
    shape = cb.ChainShape.from_spec(spec, n)
    best = cb.predict_time(shape, "optimal").seconds
    for mode in ("forward", "reverse"):
        assert best <= cb.predict_time(shape, mode).seconds * (1 + 1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_a_plan_is_taken_only_when_predicted_faster_than_the_models_error(seed):
    from chainbench.cost.choice import choose
    from chainbench.cost.optimal import _candidates
    from chainbench.machine.current import current_profile

    shape = random_chain(np.random.default_rng(seed), depth=2 + seed % 4).shape
    pure = min(cb.predict_time(shape, mode).seconds for mode in ("forward", "reverse"))
    chosen = cb.predict_time(shape, "optimal").seconds
    decision = choose("optimal", shape, current_profile(), _candidates)
    assert decision.band >= 0.05 or decision.fastest is decision.safe
    if decision.picked.safe:
        assert chosen == pytest.approx(pure)
        assert decision.fastest.safe or decision.gain <= decision.band
    else:
        assert decision.gain > decision.band
        assert chosen * math.exp(decision.band) < pure * (1 + 1e-12)


def test_both_optima_compute_the_same_jacobian_and_count_what_they_predict():
    chain = cb.Chain.from_spec("dense:30 tanh dense:5 dense:30 sigmoid dense:30", 30, seed=2)
    x = np.random.default_rng(0).standard_normal(30)
    reference = cb.jacobian(chain, x, "reverse")
    for mode in ("optimal", "optimal-madds"):
        J, stats = cb.jacobian(chain, x, mode, return_stats=True)
        assert np.max(np.abs(J - reference)) < 1e-12
        assert stats.madds == cb.predict(chain, mode).madds


def test_overheads_come_from_the_profile_and_are_stored_in_its_one_cache_file(
        tmp_path, monkeypatch):
    from chainbench.machine import current, own_costs
    from chainbench.machine import profile as machine
    from chainbench.machine.overheads import Overheads

    profile = synthetic_profile()
    assert profile.own_costs == Overheads(2e-6, 5e-8, code=profile.overheads.code,
                                          madd_s=SYNTHETIC_OPERATIONS)
    bare = dataclasses.replace(profile, overheads=None)
    assert not bare.own_costs.measured and bare.own_costs.call_s == bare.call_overhead_s
    assert price([], bare, 1).overhead_s == bare.call_overhead_s  # the stand-in is priced
    monkeypatch.setenv("CHAINBENCH_PROFILE_DIR", str(tmp_path))
    machine.save(bare)
    measured = Overheads(3e-6, 1e-7, code=profile.overheads.code,
                         madd_s=(("operations", 1e-8, 1e-8, 1e-9, 1e-9),))
    monkeypatch.setattr(own_costs, "measure_overheads", lambda: measured)
    errors = (("gemm", 0.2), ("stream", 0.1))
    priced_with = []
    monkeypatch.setattr(own_costs, "measure_errors",
                        lambda p: priced_with.append(p.own_costs) or errors)
    told = []
    got = own_costs.ensure_overheads(told.append)
    assert priced_with == [measured]  # the error is measured with the costs just measured
    assert got.overheads == dataclasses.replace(measured, errors=errors)
    assert told and current.current_profile() is got
    assert machine.load_cached() == got and list(tmp_path.iterdir()) == [machine.cache_path()]
    assert own_costs.ensure_overheads(told.append) is got and len(told) == 1  # not again
    # own costs an older chainbench measured, without the cost of an operation: again
    older = dataclasses.replace(got, overheads=dataclasses.replace(got.overheads, madd_s=()))
    monkeypatch.setattr(current, "_CURRENT", older)
    assert own_costs.ensure_overheads(told.append).overheads.madd_s == measured.madd_s
    assert len(told) == 2
    assert price([], got, 1).overhead_s == pytest.approx(3e-6)


def test_measured_overheads_are_positive_and_small():
    from chainbench.machine.own_costs import measure_overheads

    o = measure_overheads()
    assert 0 < o.call_s < 1e-3 and 0 <= o.pass_s < 1e-5
    measured = {name for name, *_ in o.madd_s}
    assert {"tanh", "sin", "softmax", "relu", "conv", "grouped"} <= measured
    assert "dense" not in measured
    assert all(0 <= c < 1e-6 for _, *costs in o.madd_s for c in costs)
    # a libm call per entry costs more than a comparison
    assert o.per_madd("sin", "value") > o.per_madd("relu", "value")


def test_a_rule_is_priced_per_multiply_add_where_that_costs_more_than_its_bytes():
    from chainbench.machine.overheads import Overheads

    shape = cb.ChainShape.from_spec("dense:4096 tanh conv:5 dense:1", 4096)
    record, lanes = P.value_pass(shape, 1, record=True), P.lane_pass(shape, 2, 8, "tangent")
    assert (record.layer, record.rule, record.madds) == ("tanh", "record", 4096)
    assert (lanes.layer, lanes.rule, lanes.product) == ("conv", "tangent", False)
    profile = synthetic_profile()
    bytes_only = price([record], profile, 2**20, Overheads(0.0, 0.0))
    costs = (("tanh", 1e-9, 8e-9, 1e-9, 1e-9), ("conv", 1e-9, 1e-9, 2e-9, 3e-9))
    per_madd = price([record, lanes], profile, 2**20, Overheads(0.0, 0.0, madd_s=costs))
    assert bytes_only.bound == "memory" and per_madd.bound == "compute"
    assert per_madd.seconds == pytest.approx(4096 * 8e-9 + lanes.madds * 2e-9)
    cheap = Overheads(0.0, 0.0, madd_s=(("tanh", 1e-15, 1e-15, 1e-15, 1e-15),))
    assert price([record], profile, 2**20, cheap).seconds == bytes_only.seconds


def test_auto_regret_compares_the_predicted_pick_with_the_measured_fastest():
    from chainbench.harness.analysis.tables import auto_regret, regrets

    rows = []
    for n, (tf, tr, pf, pr) in {8: (1.0, 2.0, 1.0, 3.0), 16: (1.0, 1.5, 2.0, 1.0),
                                32: (3.0, 1.0, 4.0, 1.0)}.items():
        for engine, t, p in (("forward", tf, pf), ("reverse", tr, pr)):
            rows.append({"status": "ok", "engine": engine, "n": n, "m": 1, "depth": 2,
                         "width": "square", "activation": "tanh", "seed": 0,
                         "chunk_spec": "default", "time_median_s": t, "time_predicted_s": p})
    table = auto_regret(pd.DataFrame(rows)).iloc[0]
    assert table["chains"] == 3 and table["within_10pct"] == pytest.approx(2 / 3)
    assert table["worst_regret"] == pytest.approx(0.5) and table["median_regret"] == 0.0
    # chunks count as choices: a forward chunk predicted fastest but measured slow is regret
    rows += [{**rows[-2], "chunk": 4, "time_median_s": 6.0, "time_predicted_s": 0.5}]
    for r in rows[:-1]:
        r.setdefault("chunk", 32)
    table = auto_regret(pd.DataFrame(rows)).iloc[0]
    assert table["worst_regret"] == pytest.approx(5.0)
    # a measured mode='auto' row is the pick itself, whatever the predictions say
    rows += [{**rows[0], "mode": "auto", "engine": "reverse", "chunk": 16,
              "time_median_s": 2.2}]
    for r in rows[:-1]:
        r.setdefault("mode", r["engine"])
    per_chain = regrets(pd.DataFrame(rows)).set_index("n")
    assert per_chain.loc[8, "measured"]
    assert (per_chain.loc[8, "pick"], per_chain.loc[8, "pick_chunk"]) == ("reverse", "16")
    assert per_chain.loc[8, "regret"] == pytest.approx(1.2)
    # an auto row that runs a measured pure (mode, chunk): that row's time is the pick's,
    # whatever the auto row's own timing read
    same = [{**rows[0], "mode": "auto", "time_median_s": 0.9}]
    assert regrets(pd.DataFrame(rows[:-1] + same)).set_index("n").loc[8, "regret"] == 0.0
    assert not per_chain.loc[16, "measured"]
