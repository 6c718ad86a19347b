"""explain: every pass of every first-order AD mode's plan runs alone and is timed; the
rows of an explanation are the plan's passes; the command refuses bad input in one line."""

from __future__ import annotations

import math

import pytest

import chainbench as cb
from chainbench.cli import main
from chainbench.cost.pass_timing import PassTimer
from chainbench.cost.time_model import pass_prices, price_plan
from chainbench.engines.registry import ENGINES

AD_MODES = [name for name, e in ENGINES.items() if e.family == "ad"]
# the last one's narrow middle makes the bracketing modes run block products
SPECS = ["dense:12 tanh dense:6 softmax dense:3", "dense:8 sin dense:16 dense:2",
         "dense:40 dense:2 dense:40 dense:40"]
KINDS = {"value", "record", "tangent", "adjoint", "explicit", "product", "copy", "fill",
         "alloc"}


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("mode", AD_MODES)
def test_every_pass_of_every_mode_runs_alone(spec, mode):
    chain = cb.Chain.from_spec(spec, 10)
    chunk = 2 if ENGINES[mode].lanes is not None else None
    dense = False if "sparse" in mode else True
    bound = cb.bind(chain, mode, chunk, dense=dense)
    timer = PassTimer(chain.program)
    rules = set()
    for p in bound.plan.passes:
        seconds = timer.seconds(p)
        if p.level == "operation":  # no kernel runs one layer's share of a tape
            assert math.isnan(seconds), p
            continue
        assert math.isfinite(seconds) and 0 < seconds < 0.1, (p, seconds)
        rules.add(p.rule)
    assert rules  # a plan runs something


def test_those_plans_hold_every_kind_of_pass():
    kinds = {p.rule for spec in SPECS for mode in AD_MODES for p in cb.bind(
        cb.Chain.from_spec(spec, 10), mode, dense="sparse" not in mode).plan.passes}
    assert kinds == KINDS


def test_layer_passes_are_found_at_their_layer():
    chain = cb.Chain.from_spec("dense:12 tanh dense:6", 10)
    timer = PassTimer(chain.program)
    plan = cb.bind(chain, "reverse").plan
    adjoints = [p for p in plan.passes if p.rule == "adjoint"]
    assert [timer.layer_of(p) for p in adjoints] == [0, 1]


def test_per_pass_prices_sum_to_the_plans_price():
    from tests.machine_helpers import synthetic_profile

    chain = cb.Chain.from_spec("dense:64 tanh dense:32 dense:4", 48)
    plan = cb.bind(chain, "forward", 8).plan
    profile = synthetic_profile()
    total = sum(s * p.count for (s, _), p in zip(pass_prices(plan, profile), plan.passes))
    t = price_plan(plan, profile)
    assert total + profile.own_costs.call_s == pytest.approx(t.seconds, rel=1e-9)


def test_explain_rows_are_the_plans_passes():
    chain = cb.Chain.from_spec("dense:16 tanh dense:8 dense:2", 12)
    bound = cb.bind(chain, "reverse", 1)
    ex = bound.explain()
    plan = bound.plan.passes
    assert [(r["rule"].split(" ")[0], r["layer"], r["lanes"], r["count"]) for r in ex.rows] \
        == [(p.rule, p.layer, p.lanes, p.count) for p in plan]
    frame = ex.frame
    assert len(frame) == len(plan) and (frame["measured_s"] > 0).all()
    assert ex.call_s > 0 and ex.passes_s > 0
    text = str(ex)
    assert text.count("\n") == len(plan) + 3  # title, head, a line per pass, two summary lines
    assert "<table>" in ex._repr_html_()


def test_explain_command_prints_a_row_per_pass(capsys, tmp_path):
    out = tmp_path / "fig.png"
    assert main(["explain", "dense:8 tanh dense:4", "--n", "6", "--mode", "forward",
                 "--chunk", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "whole call measured" in text and out.stat().st_size > 0
    plan = cb.bind(cb.Chain.from_spec("dense:8 tanh dense:4", 6), "forward", 2).plan
    assert sum(line.startswith(("alloc", "record", "value", "tangent", "explicit", "copy"))
               for line in text.splitlines()) == len(plan.passes)


@pytest.mark.parametrize("argv, says", [
    (["dense:x", "--n", "4"], "width 'x'"),
    (["dense:4", "--n", "0"], "--n must be"),
    (["dense:4", "--n", "4", "--mode", "bogus"], "unknown mode"),
    (["dense:4", "--n", "4", "--mode", "forward", "--chunk", "0"], "chunk must be"),
    (["dense:4", "--n", "4", "--mode", "fd-forward", "--chunk", "2"], "chunk"),
])
def test_explain_command_refuses_bad_input(capsys, argv, says):
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]


def test_explain_command_refuses_what_does_not_fit(capsys, monkeypatch):
    monkeypatch.setattr("chainbench.provenance.available_memory", lambda: 2**20)
    assert main(["explain", "dense:1024 dense:1024", "--n", "1024", "--mode", "reverse"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "explaining mode='reverse'" in err[0]


def test_a_call_beyond_the_caches_reads_each_matrix_from_copies():
    chain = cb.Chain.from_spec("dense:64 tanh dense:8", 32)
    warm, cold = PassTimer(chain.program), PassTimer(chain.program, cold_bytes=2**20)
    record = cb.bind(chain, "reverse").plan.passes[2]
    assert record.rule == "record" and record.layer == "dense"
    assert warm.copies(record.bytes) == 1
    assert cold.copies(record.bytes) == math.ceil(2 * 2**20 / record.bytes)
    assert cold.seconds(record) > 0


def test_the_whole_call_is_timed_without_keeping_each_result_alive():
    """A caller's loop drops J before the next call; keeping every J (a list of results)
    would fault fresh memory in on each call and time that instead."""
    import weakref

    from chainbench.explain import _calls

    class Result:
        pass

    alive = []

    def bound(x):
        assert all(ref() is None for ref in alive), "an earlier call's J is still held"
        result = Result()
        alive.append(weakref.ref(result))
        return result

    _calls(bound, None, 4)
    assert len(alive) == 4


def test_operation_level_passes_are_not_timed_as_some_layer_rule():
    chain = cb.Chain.from_spec("dense:16 tanh dense:4", n=8, seed=0)
    explained = cb.bind(chain, "op-reverse").explain()
    ops = [r for r in explained.rows if r["layer"] and r["rule"] in ("record", "adjoint")]
    assert ops and all(math.isnan(r["measured_s"]) for r in ops)
    assert math.isfinite(explained.passes_s) and explained.untimed == len(ops)
    assert "operation-level passes aside" in str(explained)
