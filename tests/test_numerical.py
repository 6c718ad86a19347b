"""Numerical differentiation engines (fd-forward, fd-central, complex-step): against the AD
Jacobian on seeded random chains, counters against the cost model, the complex step's refusal
of non-analytic layers, scipy's approx_fprime and check_grad, and the step sweep's U-curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from chain_helpers import KINDS, assert_same_jacobian, fd_point, seeded_chains, token
from scipy.optimize import approx_fprime, check_grad

import chainbench as cb
from chainbench import LAYERS, plots
from chainbench.cli import main
from chainbench.engines.numerical import EPS, METHODS
from chainbench.errors import NotComplexSafe, Unsupported
from chainbench.harness.experiment.config import Measure, parse
from chainbench.harness.run.point import measure_chain
from chainbench.harness.run.sweep import run
from chainbench.harness.tools import accuracy

CHAINS = seeded_chains(42)
SAFE = [c for c in CHAINS if all(type(layer).complex_safe for layer in c.layers)]
UNSAFE = [c for c in CHAINS if c not in SAFE]
#: Worst error relative to max |J| each method may show at its default step on these O(1)
#: chains: forward differences ≈ √ε·|f''|/|f'|, central ≈ ε^(2/3), complex step ≈ ε.
TOL = {"fd-forward": 1e-5, "fd-central": 1e-8, "complex-step": 1e-13}
FIELDS = ("sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent", "madds_adjoint",
          "bytes_tape", "bytes_work", "layer_steps", "evaluations")


def _reference(chain, x):
    return cb.jacobian(chain, x, mode="reverse")


def _max_rel(A, B) -> float:
    return float(np.max(np.abs(A - B)) / max(1.0, np.max(np.abs(B))))


def test_sample_has_complex_safe_and_unsafe_chains():
    assert len(SAFE) >= 10 and UNSAFE


@pytest.mark.parametrize("method", ["fd-forward", "fd-central"])
@pytest.mark.parametrize("chain", CHAINS, ids=repr)
def test_finite_differences_match_ad(chain, method):
    x = fd_point(chain, np.random.default_rng(chain.n + 7 * chain.depth))
    J = cb.jacobian(chain, x, mode=method)
    assert J.shape == (chain.m, chain.n)
    assert _max_rel(J, _reference(chain, x)) < TOL[method]


@pytest.mark.parametrize("chain", SAFE, ids=repr)
def test_complex_step_matches_ad_to_machine_precision(chain):
    x = np.random.default_rng(chain.n).standard_normal(chain.n)
    J = cb.jacobian(chain, x, mode="complex-step")
    assert _max_rel(J, _reference(chain, x)) < TOL["complex-step"]
    # no subtraction, so a step far below ε changes nothing
    assert_same_jacobian(cb.jacobian(chain, x, mode="complex-step", step=1e-200), J)


@pytest.mark.parametrize("chain", UNSAFE, ids=repr)
def test_complex_step_refuses_a_layer_without_a_complex_rule_naming_it(chain):
    k = next(k for k, layer in enumerate(chain.layers) if not type(layer).complex_safe)
    name = chain.layers[k].name  # relu or elu: neither is analytic
    with pytest.raises(NotComplexSafe, match=rf"layer {k} \({name}\) is not complex-safe.*"
                                             r"use mode='fd-central'"):
        cb.jacobian(chain, np.zeros(chain.n), mode="complex-step")


def test_refusal_is_a_value_error_and_unsupported():
    chain = cb.Chain.from_spec("dense:3 relu", n=2)
    for cls in (ValueError, Unsupported):
        with pytest.raises(cls):
            cb.jacobian(chain, np.zeros(2), mode="complex-step")


#: Layers whose value has no analytic continuation, so no complex rule can exist.
NOT_ANALYTIC = {"relu", "elu"}


@pytest.mark.parametrize("name", KINDS)
def test_every_layer_is_complex_safe_or_says_it_is_not(name):
    """A complex-safe layer's complex step equals its AD Jacobian after a dense layer; one
    that is not (ReLU: max(z, 0) is not analytic) must be refused."""
    cls = LAYERS[name]
    chain = cb.Chain.from_spec(f"dense:4 {token(name, 4, 4)}", n=3, seed=1)
    x = 2.0 * np.random.default_rng(2).standard_normal(3)
    if not cls.complex_safe:
        assert name in NOT_ANALYTIC, (
            f"{name}: give it a complex value rule (scalar_complex for an activation), or, if its "
            f"value is not analytic, add it to NOT_ANALYTIC")
        with pytest.raises(NotComplexSafe, match=name):
            cb.jacobian(chain, x, mode="complex-step")
        return
    assert _max_rel(cb.jacobian(chain, x, mode="complex-step"), _reference(chain, x)) < 1e-14


@pytest.mark.parametrize("name", [k for k in KINDS if LAYERS[k].complex_safe])
def test_complex_rule_is_the_real_rule_on_the_real_axis(name):
    from chainbench.model.layers.dispatch import layer_value_complex

    chain = cb.Chain.from_spec(token(name, 6, 6), n=6, seed=3)
    x = np.array([-40.0, -3.0, -0.5, 0.0, 0.7, 35.0])  # both branches, and far out
    y = np.empty(chain.m, dtype=np.complex128)
    program = chain.program
    layer_value_complex(program.table[0], program.params, x.astype(np.complex128), y)
    np.testing.assert_allclose(y.real, chain(x), rtol=1e-14, atol=1e-300)
    assert np.all(y.imag == 0.0)


@pytest.mark.parametrize("chain, method", [
    (chain, method) for chain in CHAINS[:24] for method in METHODS
    if method != "complex-step" or chain in SAFE  # the others are refused (tested above)
], ids=repr)
def test_counters_equal_the_cost_model(chain, method):
    x = np.random.default_rng(0).standard_normal(chain.n)
    _, stats = cb.jacobian(chain, x, mode=method, return_stats=True)
    pred = cb.predict(chain, method)
    assert {k: getattr(stats, k) for k in FIELDS} == {k: getattr(pred, k) for k in FIELDS}
    assert stats.madds == pred.madds and stats.bytes_held == pred.bytes_held


@pytest.mark.parametrize("method, evaluations, work", [
    # n=3 -> dense:4 -> tanh -> dense:2: one value costs 12 + 4 + 8 = 24 multiply-adds;
    # work: values 2·4, the moved x (3) and one saved output (2) floats; complex step:
    # values 2·4 and x (3) as complex numbers of 16 bytes
    ("fd-forward", 3 + 1, 8 * (2 * 4 + 3 + 2)),
    ("fd-central", 2 * 3, 8 * (2 * 4 + 3 + 2)),
    ("complex-step", 3, 16 * (2 * 4 + 3)),
])
def test_counters_by_hand(method, evaluations, work):
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", n=3)
    _, stats = cb.jacobian(chain, np.ones(3), mode=method, return_stats=True)
    assert stats.evaluations == stats.sweeps_forward == evaluations
    assert stats.madds == stats.madds_value == 24 * evaluations
    assert stats.layer_steps == 3 * evaluations
    assert (stats.bytes_work, stats.bytes_tape, stats.sweeps_backward) == (work, 0, 0)


# --- steps -----------------------------------------------------------------------------------


def test_step_is_relative_and_defaults_are_the_theory_optima():
    assert METHODS["fd-forward"].default_step == math.sqrt(EPS)
    assert METHODS["fd-central"].default_step == EPS ** (1 / 3)
    assert METHODS["complex-step"].default_step == 1e-20
    chain = cb.Chain.from_spec("dense:3 sin dense:2", n=2, seed=4)
    x = np.array([5.0, -0.25])
    for method, engine in METHODS.items():
        assert_same_jacobian(cb.jacobian(chain, x, mode=method),
                             cb.jacobian(chain, x, mode=method, step=engine.default_step))
    # h_j = step·max(1, |x_j|): column 0 moves by 5·step, column 1 by step
    f = chain
    up = x + np.array([5e-3, 1e-3])
    expected = np.stack([(f(np.array([up[0], x[1]])) - f(x)) / (up[0] - x[0]),
                         (f(np.array([x[0], up[1]])) - f(x)) / (up[1] - x[1])], axis=1)
    np.testing.assert_allclose(cb.jacobian(chain, x, mode="fd-forward", step=1e-3), expected,
                               rtol=1e-13)


def test_a_step_below_one_ulp_still_moves_x():
    chain = cb.Chain.from_spec("dense:3 tanh dense:2", n=3, seed=5)
    x = np.array([1.5, -2.0, 0.3])  # at the smallest step, 2e-16 is below half an ulp of 2
    for method in ("fd-forward", "fd-central"):
        J = cb.jacobian(chain, x, mode=method, step=1e-16)
        assert np.all(np.isfinite(J)), method  # one unit in the last place, not 0/0


@pytest.mark.parametrize("step, error, match", [
    (0.0, ValueError, "step must be a positive finite number, got 0.0"),
    (-1e-8, ValueError, "positive finite"),
    (math.nan, ValueError, "positive finite"),
    (math.inf, ValueError, "positive finite"),
    ("1e-8", TypeError, "step must be a positive number or None, got '1e-8'"),
    (True, TypeError, "step must be a positive number"),
])
def test_bad_step(step, error, match):
    chain = cb.Chain.from_spec("dense:2", n=2)
    with pytest.raises(error, match=match):
        cb.jacobian(chain, np.zeros(2), mode="fd-central", step=step)


def test_step_and_chunk_only_where_they_mean_something():
    chain = cb.Chain.from_spec("dense:2", n=2)
    with pytest.raises(ValueError, match=r"mode 'forward' takes no step; leave step=None "
                                         r"\(step is for fd-forward, fd-central, complex-step\)"):
        cb.jacobian(chain, np.zeros(2), mode="forward", step=1e-6)
    with pytest.raises(ValueError, match="mode 'fd-forward' takes no chunk"):
        cb.jacobian(chain, np.zeros(2), mode="fd-forward", chunk=1)
    with pytest.raises(ValueError, match="mode 'complex-step' takes no snapshots"):
        cb.jacobian(chain, np.zeros(2), mode="complex-step", snapshots=2)


# --- scipy as the oracle ---------------------------------------------------------------------


@pytest.mark.parametrize("chain", CHAINS[:12], ids=repr)
def test_forward_differences_equal_scipy_approx_fprime(chain):
    """approx_fprime takes an absolute step; inside |x_j| < 1 ours is the same step, and both
    divide by the step actually taken, so the quotients agree to the last bit or so."""
    x = np.random.default_rng(chain.n).uniform(-0.9, 0.9, chain.n)
    h = math.sqrt(EPS)
    J_scipy = np.atleast_2d(approx_fprime(x, chain, h))  # (m, n) for vector f (SciPy ≥ 1.9)
    assert J_scipy.shape == (chain.m, chain.n)
    np.testing.assert_allclose(cb.jacobian(chain, x, mode="fd-forward", step=h), J_scipy,
                               rtol=1e-12, atol=1e-12 * max(1.0, np.abs(J_scipy).max()))


@pytest.mark.parametrize("seed", range(6))
def test_check_grad_agrees_with_every_gradient(seed):
    """scipy's check_grad (the 2-norm of a gradient minus its forward-difference estimate)
    is at forward differences' error level for the AD gradient and for each numerical one,
    and far above it for a wrong gradient."""
    chain = cb.Chain.from_spec("dense:12 tanh dense:8 sigmoid dense:1", n=10, seed=seed)
    x = np.random.default_rng(seed).standard_normal(10)

    def f(v):
        return chain(v)[0]

    scale = np.linalg.norm(cb.jacobian(chain, x, mode="reverse")[0])
    for mode in ("reverse", "forward", "fd-forward", "fd-central", "complex-step"):
        err = check_grad(f, lambda v, mode=mode: cb.jacobian(chain, v, mode=mode)[0], x)
        assert err < 1e-6 * max(1.0, scale), mode
    wrong = check_grad(f, lambda v: 1.01 * cb.jacobian(chain, v, mode="reverse")[0], x)
    assert wrong > 1e-3 * scale


# --- the accuracy experiment -----------------------------------------------------------------

#: quarter decades, so the minimum's place is not a matter of grid spacing
FINE = tuple(10.0 ** -(k / 4) for k in range(4, 65))


@pytest.mark.parametrize("seed", range(3))
def test_u_curve_minima_sit_near_theory(seed):
    chain = cb.Chain.from_spec(accuracy.DEFAULT_SPEC, n=16, seed=seed)
    x = np.random.default_rng(seed).standard_normal(16)
    df = accuracy.step_sweep(chain, x, {"fd-forward": FINE, "fd-central": FINE,
                                        "complex-step": accuracy.STEPS["complex-step"]})
    best = accuracy.minima(df).set_index("method")
    assert best.loc["fd-forward", "decades_off"] <= 1.0  # within a decade of √ε
    assert best.loc["fd-central", "decades_off"] <= 1.0  # within a decade of ε^(1/3)
    assert best.loc["fd-forward", "error_best"] < 1e-6
    assert best.loc["fd-central", "error_best"] < 1e-9
    # a U: worse a decade and more on both sides of the minimum
    for method in ("fd-forward", "fd-central"):
        g = df[df["method"] == method].set_index("h")["error"]
        h = best.loc[method, "h_best"]
        assert g[g.index >= 10 * h].min() > g[h] and g[g.index <= h / 10].min() > g[h]
    # the complex step: flat at machine precision once truncation is gone
    cs = df[df["method"] == "complex-step"]
    assert (cs.loc[cs["h"] <= 1e-8, "error"] < 20 * EPS).all()
    assert cs["h"].min() == 1e-200


def test_accuracy_command_writes_csv_meta_and_figure(tmp_path, capsys):
    out = tmp_path / "acc"
    assert main(["accuracy", "dense:6 tanh dense:1", "--n", "6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    df = pd.read_csv(out / "accuracy.csv")
    assert list(df.columns) == ["spec", "n", "m", "seed", "method", "h", "error"]
    assert set(df["method"]) == set(METHODS)
    assert df["h"].max() == 0.1 and df.loc[df["method"] == "fd-forward", "h"].min() == 1e-16
    assert (out / "meta.json").exists() and (out / "accuracy.png").stat().st_size > 1000
    assert "fd-forward" in text and f"saved: {out / 'accuracy.png'}" in text
    # a second run never overwrites the first
    assert main(["accuracy", "dense:6 tanh dense:1", "--n", "6", "--out", str(out)]) == 0
    assert (tmp_path / "acc-2" / "accuracy.csv").exists()


def test_accuracy_command_leaves_out_the_complex_step_on_relu(tmp_path, capsys):
    out = tmp_path / "acc"
    assert main(["accuracy", "dense:6 relu dense:1", "--n", "4", "--out", str(out)]) == 0
    assert "complex-step: skipped: complex-step: layer 1 (relu)" in capsys.readouterr().out
    assert set(pd.read_csv(out / "accuracy.csv")["method"]) == {"fd-forward", "fd-central"}


@pytest.mark.parametrize("argv, says", [
    (["accuracy", "--n", "0"], "--n must be ≥ 1"),
    (["accuracy", "dense:4 tanhh", "--n", "4"], "unknown layer 'tanhh'"),
])
def test_accuracy_command_bad_input(argv, says, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert says in capsys.readouterr().err


def test_accuracy_figure_skips_politely_on_sweep_results():
    quick = pd.read_csv(__import__("pathlib").Path(__file__).parent / "fixtures/quick/points.csv")
    with pytest.raises(plots.CannotPlot, match="^error vs step: results lack columns method, h, "
                                               "error"):
        plots.FIGURES["accuracy_vs_step"].draw(quick)


# --- in sweeps -------------------------------------------------------------------------------

TINY = """
name = "numerical"
[grid]
n = [4, 6]
m = [1, "n"]
depth = [1]
activation = ["tanh", "relu"]
modes = ["fd-forward", "fd-central", "complex-step"]
[measure]
min_sample_ms = 0.5
min_samples = 2
min_seconds = 0.001
max_seconds = 0.02
memory = false
"""


def test_sweep_runs_numerical_modes_and_skips_complex_step_on_relu(tmp_path):
    results = run(parse(TINY), tmp_path / "res")
    df = pd.read_csv(results.points_file)
    assert len(df) == 2 * 2 * 2 * 3
    refused = (df["mode"] == "complex-step") & (df["activation"] == "relu")
    assert (df.loc[refused, "status"] == "skipped").all()
    assert df.loc[refused, "reason"].str.contains("relu\\) is not complex-safe").all()
    ok = df[~refused]
    assert (ok["status"] == "ok").all(), ok[["mode", "reason"]]
    assert (ok["madds_counted"] == ok["madds_predicted"]).all()
    assert (ok["bytes_counted"] == ok["bytes_predicted"]).all()
    central = ok[ok["mode"] == "fd-central"]
    assert (central["sweeps_forward"] == 2 * central["n"]).all()


def test_probe_check_allows_for_the_method_but_not_for_a_wrong_jacobian(monkeypatch):
    chain = cb.Chain.from_spec("dense:8 tanh dense:8 tanh dense:1", n=8, seed=1)
    policy = Measure(min_sample_ms=0.5, min_samples=2, min_seconds=0.001, max_seconds=0.01,
                     memory=False)
    row = measure_chain(chain, "fd-forward", None, policy)
    assert row.status == "ok" and row.check_error < 1e-5
    engine = METHODS["fd-forward"]
    real = engine._kernel

    def off(table, params, max_width, x, step, J, counts):
        real(table, params, max_width, x, step, J, counts)
        J *= 1.01

    monkeypatch.setattr(engine, "_kernel", off)
    row = measure_chain(chain, "fd-forward", None, policy)
    assert row.status == "failed" and "Jacobian check failed" in row.reason
