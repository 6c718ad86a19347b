"""Sparse Jacobians: structured layers in every engine, sparsity detection, coloring, and the
compressed modes against dense reverse mode, finite differences and the cost model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from chain_helpers import assert_matches_fd, fd_jacobian, fd_point, token

import chainbench as cb
from chainbench import api
from chainbench.cli import main
from chainbench.cost.coloring import color
from chainbench.engines.registry import ENGINES
from chainbench.errors import TooLarge

#: Layers a random structured chain is drawn from: the structured ones and the activations,
#: with dense and softmax now and then (their J is full: the colors fall back to n or m).
STRUCTURED = ("conv", "grouped", "tanh", "sin", "sigmoid", "softplus", "elu", "relu")
FULL = ("dense", "softmax")
SPARSE_MODES = ("sparse-forward", "sparse-reverse")
EXACT = 1e-12


def structured_chain(seed: int, full_layers: bool = False) -> cb.Chain:
    """A seeded random chain of structured layers and activations (and, ``full_layers``,
    a dense or softmax layer too), widths 1..48."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 49))
    depth = int(rng.integers(1, 7))
    kinds = [str(k) for k in rng.choice(STRUCTURED, size=depth)]
    if full_layers:
        kinds[int(rng.integers(depth))] = str(rng.choice(FULL))
    tokens, w = [], n
    for kind in kinds:
        out = int(rng.integers(1, 4)) * w if kind in ("grouped", "dense") else w
        tokens.append(token(kind, w, out, rng))
        w = out
    return cb.Chain.from_spec(" ".join(tokens), n=n, seed=seed)


CHAINS = [structured_chain(seed) for seed in range(60)]
MIXED = [structured_chain(1000 + seed, full_layers=True) for seed in range(20)]


def assert_equal_to(J, ref, what: str) -> None:
    scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
    np.testing.assert_allclose(J, ref, rtol=EXACT, atol=EXACT * scale, err_msg=what)


def test_sample_has_every_structured_layer_and_many_colors():
    names = {layer.name for chain in CHAINS for layer in chain.layers}
    assert {"conv", "grouped"} <= names
    counts = {cb.coloring(chain).count for chain in CHAINS}
    assert len(counts) > 5


@pytest.mark.parametrize("chain", CHAINS + MIXED, ids=repr)
def test_sparse_modes_equal_dense_reverse_mode(chain):
    x = np.random.default_rng(chain.n).standard_normal(chain.n)
    ref = cb.jacobian(chain, x, mode="reverse")
    for mode in SPARSE_MODES:
        J = cb.jacobian(chain, x, mode=mode)
        assert J.shape == (chain.m, chain.n) and isinstance(J, np.ndarray)
        assert_equal_to(J, ref, mode)
        S = cb.jacobian(chain, x, mode=mode, dense=False)
        assert isinstance(S, sp.csr_array) and S.shape == J.shape
        assert_equal_to(S.toarray(), ref, f"{mode} dense=False")
        for chunk in {1, max(1, api.default_chunk(chain, mode) // 2)}:
            assert_equal_to(cb.jacobian(chain, x, mode=mode, chunk=chunk), ref, f"{mode} {chunk}")


@pytest.mark.parametrize("chain", CHAINS[::5], ids=repr)
def test_every_engine_on_structured_chains_matches_finite_differences(chain):
    x = fd_point(chain, np.random.default_rng(chain.depth))
    J_fd = fd_jacobian(chain, x)
    for mode in ("forward", "reverse", "optimal", "sqrt-checkpoint", "revolve", *SPARSE_MODES):
        assert_matches_fd(cb.jacobian(chain, x, mode=mode), J_fd, mode)


@pytest.mark.parametrize("chain", CHAINS[:30], ids=repr)
def test_pattern_holds_every_nonzero_and_only_those(chain):
    # exact for these layers at random parameters, but where ReLU's g' is 0 (a superset)
    x = np.random.default_rng(3).standard_normal(chain.n)
    J = cb.jacobian(chain, x, mode="reverse")
    P = cb.sparsity(chain)
    assert isinstance(P, sp.csr_array) and P.dtype == bool and P.shape == J.shape
    assert not np.any(J[~P.toarray()])
    if not any(layer.name == "relu" for layer in chain.layers):
        np.testing.assert_array_equal(J != 0, P.toarray())


def test_full_layer_makes_the_pattern_full_and_colors_n_and_m():
    chain = cb.Chain.from_spec("conv:3 dense:7 tanh", n=5, seed=0)
    assert cb.sparsity(chain).nnz == 35
    assert (cb.coloring(chain).count, cb.coloring(chain, "rows").count) == (5, 7)


@pytest.mark.parametrize("chain", CHAINS + MIXED, ids=repr)
def test_colorings_are_structurally_orthogonal(chain):
    P = cb.sparsity(chain).toarray()
    for side, rows in (("columns", P), ("rows", P.T)):
        c = cb.coloring(chain, side)
        assert c.colors.shape == (rows.shape[1],) and c.count == c.colors.max() + 1
        for row in rows:  # the columns a row holds carry distinct colors
            assert len(set(c.colors[row])) == int(row.sum())
        assert c.lower_bound == rows.sum(axis=1).max() <= c.count
        assert sum(map(len, c.groups())) == rows.shape[1]


@pytest.mark.parametrize("layers, k", [(1, 3), (2, 3), (4, 5), (3, 7), (8, 3)])
@pytest.mark.parametrize("n", [64, 257])
def test_colors_of_K_conv_layers_are_the_bandwidth(layers, k, n):
    chain = cb.Chain.from_spec(" ".join([f"conv:{k}", "tanh"] * layers), n=n, seed=1)
    band = layers * (k - 1) + 1
    for side in ("columns", "rows"):
        c = cb.coloring(chain, side)
        assert c.count == c.lower_bound == band  # optimal: the densest row has `band` entries
    _, stats = cb.jacobian(chain, np.ones(n), mode="sparse-forward", return_stats=True)
    per_lane = sum(kind.cost(n, n).tangent for kind in chain.shape.layers)
    assert stats.madds_tangent == band * per_lane  # `band` lanes through every layer
    assert stats.sweeps_forward == 1 and stats.chunk == band


@pytest.mark.parametrize("n, G", [(64, 8), (96, 3), (128, 128)])
def test_block_diagonal_chains_color_at_the_block_size(n, G):
    chain = cb.Chain.from_spec(f"grouped:{n}:{G} tanh grouped:{n}:{G} sin", n=n, seed=2)
    for side in ("columns", "rows"):
        c = cb.coloring(chain, side)
        assert c.count == c.lower_bound == n // G


def test_sweeps_are_flat_in_n_for_a_banded_chain():
    for n in (32, 256, 2048):
        chain = cb.Chain.from_spec("conv:5 tanh conv:5 tanh", n=n, seed=0)
        for mode in SPARSE_MODES:
            assert ENGINES[mode].lane_count(chain.shape) == 9
            assert cb.predict(chain, mode).madds_tangent + cb.predict(chain, mode).madds_adjoint \
                == 9 * (2 * (5 * n - 6) + 2 * n)


@pytest.mark.parametrize("chain", CHAINS[:25] + MIXED[:8], ids=repr)
def test_counters_equal_the_cost_model(chain):
    x = np.random.default_rng(0).standard_normal(chain.n)
    for mode in SPARSE_MODES:
        for chunk in (None, 1):
            for dense in (True, False):
                _, stats = cb.jacobian(chain, x, mode=mode, chunk=chunk, return_stats=True,
                                       dense=dense)
                pred = cb.predict(chain, mode, chunk)
                got = {f: getattr(stats, f) for f in FIELDS}
                assert got == {f: getattr(pred, f) for f in FIELDS}, (mode, chunk, dense)
        assert cb.predict(chain.shape, mode) == cb.predict(chain, mode)  # shape alone


FIELDS = ("mode", "chunk", "sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent",
          "madds_adjoint", "madds_accumulate", "bytes_tape", "bytes_work", "layer_steps")


def test_auto_takes_a_sparse_mode_on_a_banded_chain_only():
    banded = cb.Chain.from_spec("conv:5 tanh conv:5 tanh conv:5", n=512, seed=0)
    assert api.auto_choice(banded)[0] in SPARSE_MODES
    dense = cb.Chain.from_spec("dense:512 tanh dense:512", n=512, seed=0)
    assert api.auto_choice(dense)[0] in ("forward", "reverse")
    x = np.random.default_rng(1).standard_normal(512)
    assert_equal_to(cb.jacobian(banded, x), cb.jacobian(banded, x, mode="reverse"), "auto")


def test_sparse_output_on_request_only_from_sparse_modes():
    chain = cb.Chain.from_spec("conv:3 tanh", n=6, seed=0)
    with pytest.raises(ValueError, match="mode 'forward' takes no dense"):
        cb.jacobian(chain, np.zeros(6), mode="forward", dense=False)
    with pytest.raises(TypeError, match="dense must be True or False, got 'no'"):
        cb.jacobian(chain, np.zeros(6), mode="sparse-forward", dense="no")


def test_outputs_that_do_not_fit_are_refused_clearly(monkeypatch):
    chain = cb.Chain.from_spec("conv:3 tanh", n=64, seed=0)
    from chainbench import bound

    monkeypatch.setattr(bound, "CHECK_ABOVE", 0)
    monkeypatch.setattr(bound, "available_memory", lambda: 1000)
    with pytest.raises(TooLarge, match=r"a dense 64 × 64 Jacobian needs .* GiB, more than .*"
                                       r"ask mode='sparse-forward' or 'sparse-reverse' with "
                                       r"dense=False"):
        cb.jacobian(chain, np.zeros(64), mode="reverse")
    with pytest.raises(TooLarge, match=r"a sparse Jacobian of 190 nonzeros needs"):
        cb.jacobian(chain, np.zeros(64), mode="sparse-forward", dense=False)
    assert issubclass(TooLarge, MemoryError)


def test_a_full_pattern_too_large_is_refused(monkeypatch):
    from chainbench.model import sparsity

    monkeypatch.setattr(sparsity, "available_memory", lambda: 1000)
    with pytest.raises(TooLarge, match="the Jacobian's pattern is full"):
        cb.sparsity(cb.Chain.from_spec("dense:64", n=64))


@pytest.mark.parametrize("spec", ["conv:4", "conv:9", "grouped:8:3"])
def test_cli_refuses_bad_structured_layers_in_one_line(spec, capsys):
    assert main(["compare", spec, "--n", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and spec in err


def test_coloring_of_any_pattern_is_valid():
    rng = np.random.default_rng(5)
    for _ in range(20):
        P = sp.random_array((40, 30), density=0.1, rng=rng).astype(bool)
        for side, M in (("columns", P.toarray()), ("rows", P.toarray().T)):
            c = color(P, side)
            for row in M:
                assert len(set(c.colors[row])) == int(row.sum())
    with pytest.raises(ValueError, match="side must be 'columns' or 'rows'"):
        cb.coloring(CHAINS[0], "diagonal")


def test_cli_sparsity_reports_colors_against_the_lower_bound(capsys):
    assert main(["sparsity", "conv:5 tanh conv:5 tanh conv:5", "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "columns   13 colors (lower bound 13" in out and "sparse-forward takes 13 lanes" in out
    assert main(["sparsity", "grouped:8:3", "--n", "6"]) == 2


def test_asdex_peer_colors_as_chainbench_and_keeps_its_preparation_apart():
    pytest.importorskip("asdex", reason="asdex not installed (pip install asdex)")
    from chainbench.peers import asdex_peer

    chain = cb.Chain.from_spec("conv:5 tanh conv:3 sigmoid grouped:40:4", n=40, seed=1)
    x = np.random.default_rng(0).standard_normal(40)
    ref = cb.jacobian(chain, x, mode="reverse")
    for mode, transform, side in (("asdex-forward", "fwd", "columns"),
                                  ("asdex-reverse", "rev", "rows")):
        assert_equal_to(cb.jacobian(chain, x, mode=mode), ref, mode)
        seconds, colors = asdex_peer.preparation_seconds(chain.program, transform)
        assert seconds > 0 and colors == cb.coloring(chain, side).count
        assert cb.predict(chain, mode).madds == cb.predict(
            chain, f"sparse-{mode.split('-')[1]}", colors).madds
