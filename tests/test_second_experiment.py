"""Second order in the harness: order-2 grids parsed and refused, a tiny run writing Hessian
and HVP rows in the one points.csv schema, the second-order peers against chainbench's
Hessian, the gate's second-order cases, and the figures and report of such a run."""

import textwrap
import types

import numpy as np
import pandas as pd
import pytest

import chainbench as cb
from chainbench.cli import main
from chainbench.errors import ConfigError
from chainbench.harness.experiment.config import parse
from chainbench.harness.experiment.second import modes_for
from chainbench.harness.storage.row import COLUMNS
from chainbench.peers.second import SECOND_PEERS

MEASURE = """
[measure]
min_sample_ms = 0.5
min_samples = 2
min_seconds = 0.001
max_seconds = 0.02
"""

TINY2 = """
name = "tiny2"
[[grid]]
order = 2
quantity = ["hessian"]
n = [4, 8, 16]
depth = [1]
modes = ["forward-over-reverse", "reverse-over-forward", "hessian-optimal", "auto",
         "jax-hessian"]
[[grid]]
order = 2
quantity = ["hvp"]
n = [8]
depth = [1]
modes = ["forward-over-reverse", "torch-hvp"]
[[grid]]
order = 2
n = [32]
layers = ["dense:{n/16} tanh dense:{n} tanh dense:{n} tanh dense:1"]
modes = ["forward-over-reverse", "reverse-over-forward", "hessian-optimal"]
[[grid]]
n = [4]
depth = [1]
modes = ["reverse"]
""" + MEASURE


def _grid(body: str) -> str:
    return f'name = "x"\n[grid]\nn = [4]\n{textwrap.dedent(body)}'


# --- parsing ----------------------------------------------------------------------------------


def test_order_two_points_carry_their_quantity_in_key_and_series():
    exp = parse(_grid('order = 2\nquantity = ["hessian", "hvp"]\n'
                      'modes = ["forward-over-reverse"]'))
    points = exp.points()
    assert [p.quantity for p in points] == ["hessian", "hvp"]
    assert points[0].key != points[1].key and points[0].series != points[1].series
    assert points[0].series.startswith("hessian|forward-over-reverse|")
    assert parse(_grid('order = 2\nmodes = ["auto"]')).points()[0].quantity == "hessian"
    # first order is as before: a Jacobian, its series without a quantity
    first = parse(_grid('modes = ["reverse"]')).points()[0]
    assert first.quantity == "jacobian" and first.series.startswith("reverse|")


@pytest.mark.parametrize("body, message", [
    ('order = 2\nquantity = ["gradient"]\nmodes = ["auto"]', "grid.quantity: 'gradient'"),
    ('order = 3\nmodes = ["auto"]', "grid.order: 3 is not 1"),
    ('order = 2\nmodes = ["reverse"]', "grid.modes: 'reverse' is not a mode of order 2"),
    ('order = 2\nquantity = ["hvp"]\nmodes = ["hessian-optimal"]',
     "'hessian-optimal' is not a mode of order 2 \\(hvp\\)"),
    ('order = 2\nquantity = ["hvp"]\nmodes = ["jax-hessian"]', "'jax-hessian' is not a mode"),
    ('modes = ["forward-over-reverse"]', "'forward-over-reverse' is not a mode of a Jacobian"),
    ('quantity = ["hessian"]\nmodes = ["reverse"]', "grid.quantity needs order = 2"),
    ('order = [1, 2]\nmodes = ["reverse"]', "one order per"),
])
def test_bad_order_two_grids_are_refused_naming_the_key(body, message):
    with pytest.raises(ConfigError, match=message):
        parse(_grid(body))


def test_a_bad_order_two_grid_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(_grid('order = 2\nquantity = ["hvp"]\nmodes = ["hessian-optimal"]'))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hessian-optimal" in err[0] and "Traceback" not in err[0]


def test_every_hessian_mode_and_peer_is_a_mode_of_its_quantity():
    assert set(cb.HESSIAN_MODES) | {"jax-hessian", "torch-hessian"} == set(modes_for("hessian"))
    assert "hessian-optimal" not in modes_for("hvp") and "torch-hvp" in modes_for("hvp")


# --- a tiny run end to end --------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("second")
    path = folder / "tiny2.toml"
    path.write_text(TINY2)
    out = folder / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return out


def test_a_tiny_second_order_run_writes_rows_with_the_new_columns(second_run):
    df = pd.read_csv(second_run / "points.csv")
    assert tuple(df.columns) == COLUMNS  # one schema for both orders
    assert {"quantity", "g_time_s", "hvp_over_g", "madds_curvature"} <= set(df.columns)
    assert set(df["quantity"]) == {"hessian", "hvp", "jacobian"}
    peers = df["mode"].isin(list(SECOND_PEERS))
    ours = df[~peers & (df["quantity"] != "jacobian")]
    assert (ours["status"] == "ok").all(), ours[["mode", "reason"]]
    # chainbench's counters equal the cost model's, the curvature among them
    assert (ours["madds_counted"] == ours["madds_predicted"]).all()
    assert (ours["madds_curvature"] > 0).all() and (ours["check_error"] < 1e-10).all()
    assert ours["engine"][ours["mode"] == "auto"].isin(cb.HESSIAN_MODES).all()
    hvp = df[(df["quantity"] == "hvp") & (df["status"] == "ok")]
    assert len(hvp) >= 1 and (hvp["g_time_s"] > 0).all()
    assert np.allclose(hvp["hvp_over_g"], hvp["time_median_s"] / hvp["g_time_s"])
    hess = df[df["quantity"] == "hessian"]
    held = hess["bytes_output"].dropna()  # a skipped peer's row holds none
    assert hess["hvp_over_g"].isna().all() and (held == 8 * hess.loc[held.index, "n"] ** 2).all()
    assert set(df.loc[peers, "status"]) <= {"ok", "skipped"}  # skipped: not installed


def test_a_second_order_peer_that_is_not_installed_is_skipped_with_the_pip_command(
        monkeypatch):
    import dataclasses

    from chainbench.harness.experiment.config import Measure
    from chainbench.harness.run.second_point import measure_second

    missing = dataclasses.replace(SECOND_PEERS["jax-hvp"], module="no_such_framework_peer")
    monkeypatch.setitem(SECOND_PEERS, "jax-hvp", missing)
    point = parse(_grid('order = 2\nquantity = ["hvp"]\nmodes = ["jax-hvp"]')).points()[0]
    row = measure_second(point, Measure())
    assert row.status == "skipped" and "pip install" in row.reason and "jax-hvp" in row.reason


def test_fit_gives_each_hessian_mode_its_own_series(second_run):
    from chainbench.harness.analysis.tables import exponents, load

    table = exponents(load(second_run))
    hess = table[table["quantity"] == "hessian"]
    assert {"forward-over-reverse", "reverse-over-forward", "hessian-optimal"} <= \
        set(hess["mode"])
    assert len(table[table["mode"] == "forward-over-reverse"]) == 1  # the HVP has one n


def test_second_order_figures_and_report_section_render(second_run, tmp_path):
    from chainbench import plots

    df = pd.read_csv(second_run / "points.csv")
    saved = {name for name, path, _ in plots.render_all(df, tmp_path / "fig") if path}
    assert {"hessian_time_vs_n", "hvp_over_gradient", "hessian_memory",
            "hessian_bracketing"} <= saved
    # the first-order figures read the Jacobian rows alone: no Hessian mode in time vs n
    assert "time_vs_n" not in saved  # one Jacobian point: not enough for it
    out = tmp_path / "r.html"
    assert main(["report", str(second_run), "--out", str(out)]) == 0
    html = out.read_text()
    assert "Second order" in html and "HVP ÷ gradient" in html


def test_results_without_second_order_points_draw_no_second_order_figure(tmp_path):
    from chainbench import plots

    df = pd.DataFrame({"status": ["ok"] * 3, "quantity": ["jacobian"] * 3,
                       "mode": ["reverse"] * 3, "n": [4, 8, 16], "m": 1, "depth": 1,
                       "width": "square", "activation": "tanh", "seed": 0,
                       "time_median_s": [1e-6, 2e-6, 4e-6], "hvp_over_g": np.nan,
                       "bytes_counted": 100, "widths": "4-4-1", "madds_predicted": 10})
    with pytest.raises(plots.CannotPlot, match="Hessian time vs n: needs measured"):
        plots.hessian_time_vs_n(df)
    with pytest.raises(plots.CannotPlot, match="HVP ÷ gradient"):
        plots.hvp_over_gradient(df)


# --- peers ------------------------------------------------------------------------------------

SPEC = "dense:6 tanh dense:5 sigmoid dense:4 softmax dense:3 sin dense:2"


@pytest.mark.parametrize("name", list(SECOND_PEERS))
def test_second_order_peers_agree_with_chainbench(name):
    peer = SECOND_PEERS[name]
    pytest.importorskip("jax" if peer.module == "jax_peer" else "torch")
    chain = cb.Chain.from_spec(SPEC, n=5, seed=3)
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    H = cb.hessian(chain, x, mode="forward-over-reverse")
    call, to_numpy = peer.native(chain.program, x, v)
    want = H if peer.quantity == "hessian" else H @ v
    np.testing.assert_allclose(to_numpy(call()), want, rtol=1e-10, atol=1e-12)
    grad, grad_numpy = peer.gradient(chain.program, x)
    np.testing.assert_allclose(grad_numpy(grad()), cb.vjp(chain, x, np.ones(2))[1],
                               rtol=1e-10, atol=1e-12)


# --- gate -------------------------------------------------------------------------------------


def test_gate_lists_one_hvp_and_one_hessian_case_and_the_worker_runs_them():
    from chainbench.gate.cases import CASES, select
    from chainbench.gate.worker import Worker

    second = [c for c in CASES if c.kind in ("hessian", "hvp")]
    assert sorted(c.kind for c in second) == ["hessian", "hvp"]
    assert {c.name for c in second} == {"hvp forward-over-reverse n256 m1 d4",
                                        "hessian forward-over-reverse n64 m1 d4"}
    assert any(c.kind == "hvp" for c in select(quick=True))
    small = [dict(c.request(), n=8, spec=c.spec.replace(str(c.n), "8")) for c in second]
    out = Worker(cb, None).setup(small)["cases"]
    for c in small:
        assert "error" not in out[c["name"]], out
        assert out[c["name"]]["check"]["shape"] == ([8, 8] if c["kind"] == "hessian" else [8])
    # a reference tree from before second order has no hessian: that case errs alone
    old = types.SimpleNamespace(Chain=cb.Chain, jacobian=cb.jacobian)
    out = Worker(old, None).setup(small)["cases"]
    assert all("AttributeError" in out[c["name"]]["error"] for c in small)


def test_the_slow_flag_may_name_a_second_order_mode():
    from chainbench.gate.worker import _engines, parse_slow_flag

    assert parse_slow_flag("forward-over-reverse:1.3", _engines(cb)) == \
        ("forward-over-reverse", 1.3)


def test_the_shipped_hessian_scaling_experiment_covers_each_part_and_stays_small():
    from chainbench.harness.experiment.config import resolve
    from chainbench.harness.run.point import predict

    points = resolve("hessian_scaling").points()
    hess = {p.mode for p in points if p.quantity == "hessian" and p.width == "square"}
    assert set(cb.HESSIAN_MODES) | {"jax-hessian", "torch-hessian"} <= hess
    hvp = [p for p in points if p.quantity == "hvp"]
    assert {p.n for p in hvp} >= {256, 2048} and "forward-over-reverse" in {p.mode for p in hvp}
    shaped = {p.width for p in points if p.layers}
    assert len(shaped) == 2 and all(
        {"forward-over-reverse", "reverse-over-forward", "hessian-optimal"} <=
        {p.mode for p in points if p.width == w} for w in shaped)
    # a few minutes on two cores: every call together is a few seconds of multiply-adds
    assert sum(predict(p).madds for p in points) < 6e10  # 4e10 as shipped
