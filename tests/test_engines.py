"""Forward and reverse engines on random chains: Jacobians, block jvp/vjp, auto mode, tape, NaN."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import (
    AFFINE,
    KINDS,
    SHAPES,
    assert_matches_fd,
    assert_same_jacobian,
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
from chainbench.api import AUTO_CHOICES
from chainbench.model.layers import Elementwise

CHAINS = seeded_chains(60)


def chunks(limit: int) -> list[int]:
    """1, a middle value and all lanes (deduplicated for small limits)."""
    return sorted({1, max(1, (limit + 1) // 2), limit})


def test_sample_covers_every_layer_and_shape():
    assert {layer.name for chain in CHAINS for layer in chain.layers} == set(KINDS)
    assert any(c.m == 1 < c.n for c in CHAINS)
    assert any(c.m == c.n for c in CHAINS)
    assert any(c.m > c.n for c in CHAINS)
    assert max(c.depth for c in CHAINS) == 6 and min(c.depth for c in CHAINS) == 1


@pytest.mark.parametrize("chain", CHAINS, ids=repr)
def test_forward_equals_reverse_equals_finite_differences(chain):
    x = fd_point(chain, np.random.default_rng(chain.n * 1000 + chain.depth))
    J_fd = fd_jacobian(chain, x)
    J_ref = None
    for mode, limit in (("forward", chain.n), ("reverse", chain.m)):
        for chunk in chunks(limit):
            J = cb.jacobian(chain, x, mode=mode, chunk=chunk)
            what = f"{mode} chunk={chunk}"
            assert J.shape == (chain.m, chain.n), what
            assert_matches_fd(J, J_fd, what)
            if J_ref is None:
                J_ref = J
            assert_same_jacobian(J, J_ref, what)


@settings(max_examples=40, derandomize=True)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES), depth=st.integers(1, 6),
       k=st.integers(1, 5))
def test_block_jvp_and_vjp_equal_J_times_block(seed, shape, depth, k):
    rng = np.random.default_rng(seed)
    chain = random_chain(rng, shape=shape, depth=depth)
    x = rng.standard_normal(chain.n)
    J = cb.jacobian(chain, x, mode="reverse")
    V, U = rng.standard_normal((chain.n, k)), rng.standard_normal((k, chain.m))
    y, JV = cb.jvp(chain, x, V)
    assert JV.shape == (chain.m, k)
    assert_same_jacobian(JV, J @ V, "jvp block")
    np.testing.assert_allclose(y, chain(x), rtol=1e-13, atol=1e-13)
    y, UJ = cb.vjp(chain, x, U)
    assert UJ.shape == (k, chain.n)
    assert_same_jacobian(UJ, U @ J, "vjp block")
    np.testing.assert_allclose(y, chain(x), rtol=1e-13, atol=1e-13)
    _, Jv = cb.jvp(chain, x, V[:, 0])  # 1-D directions come back 1-D
    _, uJ = cb.vjp(chain, x, U[0])
    assert Jv.shape == (chain.m,) and uJ.shape == (chain.n,)
    assert_same_jacobian(Jv, J @ V[:, 0], "jvp vector")
    assert_same_jacobian(uJ, U[0] @ J, "vjp vector")


@pytest.mark.parametrize("chain", CHAINS[::4], ids=repr)
def test_auto_equals_both_modes(chain):
    x = np.random.default_rng(chain.n).standard_normal(chain.n)
    J, stats = cb.jacobian(chain, x, mode="auto", return_stats=True)
    assert stats.mode in AUTO_CHOICES
    for mode in ("forward", "reverse"):
        assert_same_jacobian(J, cb.jacobian(chain, x, mode=mode), mode)


@pytest.mark.parametrize(
    "spec, n, picked",
    [
        ("dense:32 tanh dense:1", 64, "reverse"),  # one output, many inputs: one backward sweep
        ("dense:16 softplus sigmoid dense:1", 40, "reverse"),
        ("dense:32 tanh dense:64", 1, "forward"),  # one input, many outputs: one forward sweep
        ("dense:8 relu dense:50 softmax", 1, "forward"),
    ],
)
def test_auto_picks_the_cheaper_mode(spec, n, picked):
    chain = cb.Chain.from_spec(spec, n=n, seed=1)
    x = np.random.default_rng(0).standard_normal(n)
    J, stats = cb.jacobian(chain, x, mode="auto", return_stats=True)
    assert stats.mode == picked
    assert_same_jacobian(J, cb.jacobian(chain, x, mode=picked))


@pytest.mark.parametrize("chain", CHAINS[::3], ids=repr)
def test_tape_has_one_entry_per_layer_holding_what_its_vjp_needs(chain):
    x = np.random.default_rng(chain.m).standard_normal(chain.n)
    tape = cb.record_tape(chain, x)
    assert len(tape) == chain.depth
    assert tape.layers == tuple(layer.name for layer in chain.layers)
    for k, layer in enumerate(chain.layers):
        want = 0 if layer.name in AFFINE else chain.widths[k + 1]  # weights are parameters
        assert tape.entry(k).shape == (want,), f"layer {k} ({layer.name})"
    _, stats = cb.jacobian(chain, x, mode="reverse", return_stats=True)
    assert tape.nbytes == stats.bytes_tape == 8 * sum(tape.entry(k).size for k in range(len(tape)))
    assert stats.tape_entries == chain.depth
    np.testing.assert_allclose(tape.output, chain(x), rtol=1e-14, atol=1e-14)


def test_tape_entries_are_derivatives_and_softmax_outputs():
    chain = cb.Chain.from_spec("dense:5 tanh dense:4 softmax", n=3, seed=2)
    x = np.array([0.3, -1.2, 0.7])
    tape = cb.record_tape(chain, x)
    z = chain.layers[0].W @ x + chain.layers[0].b
    np.testing.assert_allclose(tape.entry(1), 1.0 - np.tanh(z) ** 2, rtol=1e-14)  # tanh'(z)
    np.testing.assert_allclose(tape.entry(3), chain(x), rtol=1e-14)  # softmax keeps its y


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_nan_input_propagates_without_raising(name, mode):
    out = 4 if LAYERS[name].takes_width else 5
    chain = cb.Chain.from_spec(f"dense:5 {token(name, 5, out)}", n=3, seed=4)
    x = np.array([0.5, np.nan, -0.25])
    assert np.all(np.isnan(chain(x)))  # W x mixes the NaN into every entry
    J = cb.jacobian(chain, x, mode=mode)
    if name in AFFINE:  # affine ∘ affine: J = J2 W1 does not depend on x
        second = cb.Chain(chain.layers[1:], n=5)
        J2 = cb.jacobian(second, np.zeros(5), mode="reverse")
        np.testing.assert_allclose(J, J2 @ chain.layers[0].W, rtol=1e-13)
    else:  # every entry depends on x through the NaN pre-activations
        assert np.all(np.isnan(J)), J


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_nan_stays_where_it_depends_on_x(mode):
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", n=3, seed=0)
    x = np.array([1.0, np.nan, 2.0])
    assert np.all(np.isnan(chain(x)))
    assert np.all(np.isnan(cb.jacobian(chain, x, mode=mode)))
    # an elementwise layer alone: only y_1 depends on the NaN x_1
    x = np.array([1.0, np.nan, 2.0])
    J = cb.jacobian(cb.Chain([cb.Tanh()], n=3), x, mode=mode)
    assert np.isnan(J[1, 1])
    np.testing.assert_allclose(np.diag(J)[[0, 2]], 1.0 - np.tanh(x[[0, 2]]) ** 2, rtol=1e-14)


@pytest.mark.parametrize("name", KINDS)
def test_nan_pattern_is_the_same_in_every_mode(name):
    # each mode starts from the first or last layer's explicit Jacobian, not an identity
    # product, so a NaN spreads to exactly the entries that depend on it, alike in all modes
    chain = cb.Chain.from_spec(f"{token(name, 4, 4)} dense:3", n=4, seed=4)
    x = np.array([0.5, np.nan, -0.25, 1.0])
    patterns = {mode: np.isnan(cb.jacobian(chain, x, mode=mode))
                for mode in ("forward", "reverse", "optimal", "sqrt-checkpoint")}
    for mode, nan in patterns.items():
        np.testing.assert_array_equal(nan, patterns["reverse"], err_msg=mode)
    if name in AFFINE:  # affine ∘ affine: J does not depend on x at all
        assert not patterns["reverse"].any()
        return
    assert patterns["reverse"][:, 1].all()  # column 1 hangs on x_1
    if issubclass(LAYERS[name], Elementwise):  # and only column 1
        assert not patterns["reverse"][:, [0, 2, 3]].any()


def test_chain_pickles_after_jacobians_in_every_mode():
    # resolved engine calls are cached on the chain; they must not stop it from pickling
    import pickle

    chain = cb.Chain.from_spec("dense:6 tanh dense:2", n=4, seed=1)
    x = np.linspace(-1.0, 1.0, 4)
    want = {mode: cb.jacobian(chain, x, mode=mode)
            for mode in ("forward", "reverse", "optimal", "revolve", "fd-central")}
    chain(x)
    copy = pickle.loads(pickle.dumps(chain))
    for mode, J in want.items():
        np.testing.assert_array_equal(cb.jacobian(copy, x, mode=mode), J, err_msg=mode)
    np.testing.assert_array_equal(copy(x), chain(x))
