"""The operation-level engines: every registered layer lowered to primitives, Jacobians equal
to the layer-level engines' and to finite differences, the tape and the counters exactly as
the cost model predicts, and a clear refusal of layers without a lowering."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import (
    KINDS,
    SHAPES,
    assert_matches_fd,
    fd_jacobian,
    fd_point,
    random_chain,
    seeded_chains,
    token,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import chainbench as cb
from chainbench import LAYERS
from chainbench.api import resolve_mode
from chainbench.errors import Unsupported
from chainbench.harness.run.memory import peak_bytes
from chainbench.model import lowering
from chainbench.model.lowering import NotLowered, layout, lowered
from chainbench.model.ops import ENTRY_BYTES
from chainbench.model.primitives import CODES, PRIMITIVES

OP_MODES = ("op-reverse", "op-forward")
CHAINS = seeded_chains(48)
#: The operation-level engines sum in another order than BLAS: equal to roundoff.
RTOL = 1e-12
FIELDS = ("mode", "chunk", "sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent",
          "madds_adjoint", "madds_accumulate", "bytes_tape", "bytes_work", "bytes_snapshots",
          "layer_steps")


def assert_close(J, ref, what=""):
    scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
    np.testing.assert_allclose(J, ref, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def chunks(limit: int) -> list[int]:
    return sorted({1, max(1, (limit + 1) // 2), limit})


@pytest.mark.parametrize("name", KINDS)
def test_every_registered_layer_is_lowered_in_primitives_of_the_table(name):
    cls = LAYERS[name]
    assert lowered(cls), f"{cls.__name__} has no lowering (see docs/operation-level.md)"
    for w_in, w_out in ((1, 1), (3, 3 if not cls.takes_width else 5)):
        counts = cls.op_counts(w_in, w_out)
        assert counts and set(counts) <= set(CODES), counts
        assert all(k >= 0 for k in counts.values()) and sum(counts.values()) >= 1
        assert cls.op_temps(w_in, w_out) >= 0


def test_sample_covers_every_layer():
    assert {layer.name for chain in CHAINS for layer in chain.layers} == set(KINDS)


@pytest.mark.parametrize("chain", CHAINS, ids=repr)
def test_operation_level_jacobians_equal_the_layer_level_ones(chain):
    x = np.random.default_rng(chain.n * 7 + chain.depth).standard_normal(chain.n)
    ref = cb.jacobian(chain, x, mode="reverse")
    assert_close(cb.jacobian(chain, x, mode="forward"), ref, "forward")
    for mode, limit in (("op-reverse", chain.m), ("op-forward", chain.n)):
        for chunk in chunks(limit):
            J = cb.jacobian(chain, x, mode=mode, chunk=chunk)
            assert J.shape == (chain.m, chain.n)
            assert_close(J, ref, f"{mode} chunk={chunk}")


@pytest.mark.parametrize("chain", CHAINS[::4], ids=repr)
def test_operation_level_jacobians_match_finite_differences(chain):
    x = fd_point(chain, np.random.default_rng(chain.n))
    J_fd = fd_jacobian(chain, x)
    for mode in OP_MODES:
        assert_matches_fd(cb.jacobian(chain, x, mode=mode), J_fd, mode)


@pytest.mark.parametrize("name", ["relu", "softplus", "elu"])
def test_kinks_take_the_layer_rules_derivative_at_zero(name):
    # the lowerings combine max, min and |·|; left derivatives at the kink make them agree
    # with the layers' own rules (relu'(0) = 0, softplus'(0) = 1/2, elu'(0) = 1)
    chain = cb.Chain.from_spec(name, n=3)
    x = np.array([0.0, -0.5, 0.5])
    ref = cb.jacobian(chain, x, mode="reverse")
    for mode in OP_MODES:
        assert_close(cb.jacobian(chain, x, mode=mode), ref, mode)


def _stats(chain, mode, chunk=None):
    x = np.random.default_rng(1).standard_normal(chain.n)
    return cb.jacobian(chain, x, mode=mode, chunk=chunk, return_stats=True)[1]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES), depth=st.integers(1, 6),
       mode=st.sampled_from(OP_MODES), chunk_at=st.floats(0, 1) | st.none())
def test_counters_equal_the_prediction_and_the_tape_its_count(seed, shape, depth, mode, chunk_at):
    chain = random_chain(np.random.default_rng(seed), shape=shape, depth=depth)
    limit = chain.n if mode == "op-forward" else chain.m
    chunk = None if chunk_at is None else 1 + int(chunk_at * (limit - 1))
    stats, pred = _stats(chain, mode, chunk), cb.predict(chain, mode, chunk)
    assert {f: getattr(stats, f) for f in FIELDS} == {f: getattr(pred, f) for f in FIELDS}
    lay = layout(chain.shape)
    if mode == "op-reverse":
        assert stats.tape_entries == lay.total == pred.bytes_tape // ENTRY_BYTES
        assert stats.madds_adjoint == chain.m * lay.total_partials
    else:
        assert stats.tape_entries == 0 and stats.madds_tangent == chain.n * lay.total_partials


def test_counts_by_hand():
    # n = 3 -> dense:4 -> tanh -> dense:2. Dense 4×3: 12 mulc + 4·2 add + 4 addc = 24
    # operations, 12 + 2·8 + 4 = 32 partials; tanh: 4 and 4; dense 2×4: 8 + 6 + 2 = 16
    # operations, 8 + 2·6 + 2 = 22 partials. E = 44, P = 58; slots: two regions of 4, one
    # temporary, the sink.
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", n=3, seed=0)
    lay = layout(chain.shape)
    assert lay.entries == (24, 4, 16) and lay.partials == (32, 4, 22) and lay.slots == 10
    assert lay.primitives == {"mulc": 20, "add": 14, "addc": 6, "tanh": 4}
    rev, fwd = _stats(chain, "op-reverse", 1), _stats(chain, "op-forward", 2)
    # one recording sweep, two replays of one row (m = 2): 2·58 multiply-adds
    assert (rev.sweeps_forward, rev.sweeps_backward, rev.madds_value, rev.madds_adjoint) == \
        (1, 2, 44, 116)
    assert (rev.tape_entries, rev.bytes_tape, rev.bytes_work) == (44, 44 * 32, 8 * 10 * 2)
    # two sweeps (lanes 2 + 1), each evaluating 44 operations; 3·58 tangent multiply-adds
    assert (fwd.sweeps_forward, fwd.madds_value, fwd.madds_tangent, fwd.bytes_work) == \
        (2, 88, 174, 8 * 10 * 3)


@pytest.mark.parametrize("chain", CHAINS[::3], ids=repr)
def test_the_tape_holds_each_layers_operations_and_replays_to_the_jacobian(chain):
    x = np.random.default_rng(chain.m).standard_normal(chain.n)
    tape = cb.record_op_tape(chain, x)
    lay = layout(chain.shape)
    assert len(tape) == lay.total and tuple(tape.entries_per_layer()) == lay.entries
    assert tape.nbytes == ENTRY_BYTES * len(tape)
    assert tape.layers == tuple(layer.name for layer in chain.layers)
    for k, layer in enumerate(chain.layers):
        if isinstance(layer, cb.Dense):  # 2·n_k·n_{k-1}: a mulc and an add per weight, less
            assert lay.entries[k] == 2 * chain.widths[k] * chain.widths[k + 1]  # one add, + addc
    np.testing.assert_allclose(tape.output, chain(x), rtol=1e-13, atol=1e-13)
    unary = np.array([p.arity == 1 for p in PRIMITIVES])[tape.code]
    assert np.all(tape.b[unary] == tape.sink) and np.all(tape.db[unary] == 0.0)
    assert np.all((tape.out >= 0) & (tape.out < tape.sink))
    # the tape alone is enough: replaying it in plain Python gives J's rows
    J = np.empty((chain.m, chain.n))
    for i in range(chain.m):
        adj = np.zeros(tape.slots)
        adj[tape.first + i] = 1.0
        for e in range(len(tape) - 1, -1, -1):
            g, adj[tape.out[e]] = adj[tape.out[e]], 0.0
            adj[tape.a[e]] += tape.da[e] * g
            adj[tape.b[e]] += tape.db[e] * g
        J[i] = adj[: chain.n]
    assert_close(J, cb.jacobian(chain, x, mode="reverse"), "python replay")


def test_a_dense_layers_tape_holds_its_weights_as_partials_and_dumps_readably():
    chain = cb.Chain.from_spec("dense:3 tanh", n=2, seed=3)
    x = np.array([0.4, -1.1])
    tape = cb.record_op_tape(chain, x)
    dense = slice(0, 12)
    names = [tape.primitive(e) for e in range(12)]
    assert names == ["mulc", "mulc", "add", "addc"] * 3
    mulc = [e for e in range(12) if names[e] == "mulc"]
    np.testing.assert_array_equal(tape.da[mulc], chain.layers[0].W.ravel())  # ∂(W_ij x_j)/∂x_j
    assert np.all(tape.da[dense][np.array(names) == "add"] == 1.0)
    z = chain.layers[0].W @ x + chain.layers[0].b
    np.testing.assert_allclose(tape.da[12:], 1.0 - np.tanh(z) ** 2, rtol=1e-15)
    text = tape.dump(5)
    lines = text.splitlines()
    assert len(lines) == 6 and "15 entries" in lines[0] and "480 bytes" in lines[0]
    assert "dense 12" in lines[0] and "tanh 3" in lines[0]
    assert "mulc(v0, c)" in lines[1] and "add(" in lines[3] and "addc(" in lines[4]
    assert repr(tape) == "OpTape(15 entries, 480 bytes)"


def test_a_layer_without_a_lowering_is_refused_by_name(monkeypatch):
    chain = cb.Chain.from_spec("dense:4 sigmoid dense:2", n=3, seed=0)
    monkeypatch.setattr(cb.Sigmoid, "scalar_lowering", None)
    x = np.ones(3)
    for mode in OP_MODES:
        with pytest.raises(NotLowered, match=r"Sigmoid has no lowering") as err:
            cb.jacobian(chain, x, mode=mode)
        assert isinstance(err.value, Unsupported) and mode in str(err.value)
    with pytest.raises(NotLowered, match="Sigmoid"):
        cb.record_op_tape(chain, x)
    assert cb.jacobian(chain, x, mode="reverse").shape == (2, 3)  # the layer engines still run


def test_a_lowering_that_miscounts_its_operations_is_refused(monkeypatch):
    chain = cb.Chain.from_spec("dense:3 tanh", n=2, seed=0)
    counts = cb.Dense.op_counts
    monkeypatch.setattr(cb.Dense, "op_counts",
                        classmethod(lambda cls, i, o: {**counts(i, o), "addc": o - 1}))
    lowering.layout.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="op_counts"):
            cb.jacobian(chain, np.ones(2), mode="op-reverse")
    finally:
        monkeypatch.undo()
        lowering.layout.cache_clear()


@pytest.mark.parametrize("name", KINDS)
def test_nan_spreads_as_in_the_layer_level_engines(name):
    chain = cb.Chain.from_spec(f"{token(name, 4, 4)} dense:3", n=4, seed=4)
    x = np.array([0.5, np.nan, -0.25, 1.0])
    want = np.isnan(cb.jacobian(chain, x, mode="reverse"))
    np.testing.assert_array_equal(np.isnan(cb.jacobian(chain, x, mode="op-reverse")), want)
    # a dual number's NaN partial times another lane's zero tangent is NaN (ForwardDiff.jl
    # without its NaN-safe mode does the same): op-forward's NaN may spread further
    got = np.isnan(cb.jacobian(chain, x, mode="op-forward"))
    assert np.all(got[want])
    if getattr(LAYERS[name], "scalar_lowering", None) is not None:
        assert got.all()  # an activation: every lane meets the NaN entry's partial


def test_tracemalloc_sees_the_tape_of_a_call():
    chain = cb.Chain.from_spec("dense:128 tanh dense:128 tanh dense:1", n=128, seed=0)
    x = np.random.default_rng(0).standard_normal(chain.n)
    _, stats = cb.jacobian(chain, x, mode="op-reverse", return_stats=True)
    peak = peak_bytes(lambda: cb.jacobian(chain, x, mode="op-reverse"))
    assert stats.bytes_tape > 2**20
    assert stats.bytes_tape <= peak <= 1.1 * (stats.bytes_held + 8 * chain.m * chain.n)


@pytest.mark.parametrize("chain", CHAINS[::2], ids=repr)
def test_auto_never_picks_an_operation_level_mode(chain):
    assert resolve_mode(chain, "auto") in ("forward", "reverse")
    for mode in OP_MODES:  # and both are predicted slower than the layer-level mode
        twin = "reverse" if mode == "op-reverse" else "forward"
        assert cb.predict_time(chain, mode).seconds > cb.predict_time(chain, twin).seconds


def test_the_docs_name_both_modes_and_every_mode_is_on_the_engines_page():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    engines_page, readme = (root / "docs" / "engines.md").read_text(), (root / "README.md").read_text()
    for mode in cb.MODES:
        assert f"`{mode}`" in engines_page, mode
    for mode in OP_MODES:
        assert f"`{mode}`" in readme, mode
    assert "operation-level.md" in readme and (root / "docs" / "operation-level.md").exists()


def test_the_figures_draw_from_the_reference_results_and_refuse_layer_only_ones():
    from pathlib import Path

    from chainbench import plots
    from chainbench.harness.storage.points_csv import load_points

    root = Path(__file__).resolve().parents[1]
    df = load_points(root / "results" / "operation_vs_layer")
    for draw in (plots.op_memory_vs_n, plots.op_time_vs_n, plots.op_tape_entries):
        fig = draw(df)
        assert fig.axes and fig.axes[0].lines + fig.axes[0].collections
    title = plots.op_tape_entries(df).axes[0].get_title()
    assert "equals the engine's counted tape" in title
    layer_only = df[~df["mode"].str.startswith("op-")]
    for draw in (plots.op_memory_vs_n, plots.op_time_vs_n, plots.op_tape_entries):
        with pytest.raises(plots.CannotPlot):
            draw(layer_only)


def test_every_primitive_has_its_emitter_in_ops_and_nothing_else_is_generated_there():
    """ops names its emitters one by one (no globals().update): the list must follow the
    primitive table."""
    from chainbench.model import ops
    from chainbench.model.primitives import PRIMITIVES

    names = [p.name for p in PRIMITIVES]
    assert list(ops._EMITTERS) == names
    for name in names:
        assert getattr(ops, name) is ops._EMITTERS[name], f"ops.{name} is not its emitter"


def test_operation_level_passes_are_priced_by_the_measured_cost_of_an_operation():
    """An op-level pass costs the slower of its bytes and its tape entries (or partials)
    times the measured cost of one operation (the profile's OPERATIONS row)."""
    import dataclasses

    from machine_helpers import synthetic_profile

    from chainbench.cost.operations import op_forward_plan, op_reverse_plan
    from chainbench.cost.time_model import price_plan
    from chainbench.machine.own_costs import measure_op_costs
    from chainbench.machine.overheads import OPERATIONS

    shape = cb.ChainShape.from_spec("dense:64 tanh dense:64 tanh dense:1", 64)
    profile = synthetic_profile()
    bare = price_plan(op_reverse_plan(shape), profile).seconds
    slow = dataclasses.replace(profile, overheads=dataclasses.replace(
        profile.own_costs, madd_s=((OPERATIONS, 1e-6, 2e-6, 1e-6, 3e-6),)))
    plan = op_reverse_plan(shape)
    entries = sum(p.madds * p.count for p in plan.passes if p.rule == "record")
    partials = sum(p.madds * p.count for p in plan.passes if p.rule == "adjoint")
    assert entries and partials
    assert price_plan(plan, slow).seconds == pytest.approx(
        price_plan(plan, slow).overhead_s + 2e-6 * entries + 3e-6 * partials, rel=1e-3)
    assert price_plan(plan, slow).seconds > 10 * bare
    assert price_plan(op_forward_plan(shape), slow).seconds > \
        price_plan(op_forward_plan(shape), profile).seconds
    name, *costs = measure_op_costs()
    assert name == OPERATIONS and all(0 <= c < 1e-6 for c in costs)
    assert costs[1] > 0 and costs[3] > 0  # recording an entry, replaying a partial
