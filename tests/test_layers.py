"""Each registered layer alone: values against numpy, rules against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import (
    KINDS,
    assert_matches_fd,
    assert_same_jacobian,
    fd_jacobian,
    fd_point,
    kink_crossed,
    token,
)

import chainbench as cb
from chainbench import LAYERS
from chainbench.model.layers import Elementwise
from chainbench.model.layers.dense import SMALL, transpose_offset
from chainbench.model.layers.dispatch import layer_explicit


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


#: numpy oracles of every layer without parameters; a new layer must add one here.
REFERENCE = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "sin": np.sin,
    "softplus": lambda z: np.log1p(np.exp(z)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softmax": _softmax,
}


def one_layer(name: str, n: int, seed: int = 0) -> cb.Chain:
    """A chain of the single layer ``name`` on n inputs (width-taking layers get n + 2 outputs)."""
    out = n + 2 if LAYERS[name].takes_width else n
    return cb.Chain.from_spec(token(name, n, out), n=n, seed=seed)


def values_by_every_path(chain: cb.Chain, x: np.ndarray) -> dict[str, np.ndarray]:
    """f(x) as each kernel computes it: plain value, forward sweep, recording sweep, vjp."""
    return {
        "chain(x)": chain(x),
        "jvp": cb.jvp(chain, x, np.ones(chain.n))[0],
        "tape": cb.record_tape(chain, x).output,
        "vjp": cb.vjp(chain, x, np.ones(chain.m))[0],
    }


@pytest.mark.parametrize("name", KINDS)
def test_every_layer_has_a_numpy_reference(name):
    # layers with arguments (dense, conv, grouped) are checked against numpy below
    assert name in REFERENCE or LAYERS[name].arguments, (
        f"layer {name!r} is registered but tests/test_layers.py has no numpy reference for it"
    )


@pytest.mark.parametrize("name", [k for k in KINDS if not LAYERS[k].arguments])
@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_activation_value_matches_numpy(name, n):
    rng = np.random.default_rng(n)
    x = 4.0 * rng.standard_normal(n)  # reaches both branches of sigmoid, softplus, relu
    chain = one_layer(name, n)
    for path, y in values_by_every_path(chain, x).items():
        np.testing.assert_allclose(y, REFERENCE[name](x), rtol=1e-14, atol=1e-15, err_msg=path)


def test_dense_value_is_W_x_plus_b():
    rng = np.random.default_rng(3)
    W, b, x = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(3)
    chain = cb.Chain([cb.Dense(W, b)])
    for path, y in values_by_every_path(chain, x).items():
        np.testing.assert_allclose(y, W @ x + b, rtol=1e-14, atol=1e-14, err_msg=path)
    np.testing.assert_allclose(cb.Chain([cb.Dense(W)])(x), W @ x, rtol=1e-14)  # b defaults to 0


@pytest.mark.parametrize("n, K", [(1, 1), (5, 5), (9, 3), (16, 7)])
def test_conv_value_is_numpy_correlate_same(n, K):
    # y_i = b + Σ_t w_t x_{i+t-h}, zero padded: numpy's 'same' cross-correlation
    rng = np.random.default_rng(n + K)
    w, b, x = rng.standard_normal(K), 0.3, rng.standard_normal(n)
    chain = cb.Chain([cb.Conv(w, b)], n=n)
    for path, y in values_by_every_path(chain, x).items():
        np.testing.assert_allclose(y, np.correlate(x, w, mode="same") + b, rtol=1e-13,
                                   atol=1e-14, err_msg=path)


@pytest.mark.parametrize("G, bo, bi", [(1, 3, 2), (4, 2, 3), (8, 1, 1)])
def test_grouped_value_is_block_diagonal_W_x_plus_b(G, bo, bi):
    import scipy.linalg

    rng = np.random.default_rng(G * 10 + bo)
    W, b, x = rng.standard_normal((G, bo, bi)), rng.standard_normal(G * bo), rng.standard_normal(G * bi)
    chain = cb.Chain([cb.Grouped(W, b)])
    for path, y in values_by_every_path(chain, x).items():
        np.testing.assert_allclose(y, scipy.linalg.block_diag(*W) @ x + b, rtol=1e-13,
                                   atol=1e-14, err_msg=path)
    J = cb.jacobian(chain, x, mode="forward")
    np.testing.assert_array_equal(J, scipy.linalg.block_diag(*W))


@pytest.mark.parametrize("name", KINDS)
def test_layer_jacobian_lies_within_its_pattern(name):
    # the structural pattern (sparsity detection) must cover every nonzero of J
    rng = np.random.default_rng(17)
    chain = one_layer(name, 12)
    J = cb.jacobian(chain, rng.standard_normal(12), mode="reverse")
    pattern = chain.shape.layers[0].pattern(12, chain.m).toarray()
    assert pattern.shape == J.shape and pattern.dtype == bool
    assert not np.any(J[~pattern]), f"{name}: a nonzero outside its pattern"


@pytest.mark.parametrize("name", KINDS)
def test_value_stays_finite_for_large_inputs(name):
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    y = one_layer(name, x.size)(x)
    assert np.all(np.isfinite(y)), f"{name}: {y}"


def test_saturating_activations_at_large_inputs():
    x = np.array([-800.0, 800.0])
    np.testing.assert_allclose(cb.Chain([cb.Sigmoid()], n=2)(x), [0.0, 1.0], atol=1e-300)
    np.testing.assert_allclose(cb.Chain([cb.Softplus()], n=2)(x), [0.0, 800.0], atol=1e-300)
    np.testing.assert_allclose(cb.Chain([cb.Softmax()], n=2)(x), [0.0, 1.0], atol=1e-300)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("n", [1, 3, 16])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_layer_rule_matches_finite_differences(name, n, mode):
    rng = np.random.default_rng(100 + n)
    chain = one_layer(name, n, seed=n)
    for scale in (1.0, 3.0):
        x = fd_point(chain, rng, scale)
        J = cb.jacobian(chain, x, mode=mode)
        assert J.shape == (chain.m, chain.n)
        assert_matches_fd(J, fd_jacobian(chain, x), f"{name} at {x}")


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("n", [1, 5, 33])
def test_jvp_vjp_dot_product_identity(name, n):
    # ⟨u, J v⟩ = ⟨Jᵀu, v⟩ ties each layer's JVP rule to its VJP rule.
    rng = np.random.default_rng(200 + n)
    chain = one_layer(name, n, seed=n)
    for _ in range(3):
        x, v, u = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(chain.m)
        _, Jv = cb.jvp(chain, x, v)
        _, uJ = cb.vjp(chain, x, u)
        bound = np.linalg.norm(u) * np.linalg.norm(Jv) + np.linalg.norm(uJ) * np.linalg.norm(v)
        assert abs(u @ Jv - uJ @ v) <= 1e-13 * bound, (name, u @ Jv, uJ @ v)


@pytest.mark.parametrize("name", [k for k in KINDS if issubclass(LAYERS[k], Elementwise)])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_elementwise_jacobian_is_diagonal(name, mode):
    rng = np.random.default_rng(7)
    chain = one_layer(name, 6)
    x = fd_point(chain, rng, 2.0)
    J = cb.jacobian(chain, x, mode=mode)
    np.testing.assert_array_equal(J - np.diag(np.diag(J)), 0.0)
    assert_matches_fd(np.diag(J), np.diag(fd_jacobian(chain, x)), name)


@pytest.mark.parametrize("n", [1, 2, 9, 64])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_softmax_jacobian_is_diag_y_minus_y_yT(n, mode):
    rng = np.random.default_rng(n)
    x = 2.0 * rng.standard_normal(n)
    chain = cb.Chain([cb.Softmax()], n=n)
    y = _softmax(x)
    J = cb.jacobian(chain, x, mode=mode, chunk=max(1, n // 2))
    assert_same_jacobian(J, np.diag(y) - np.outer(y, y), f"n={n}")
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-15)  # Σ_i y_i = 1: columns sum to 0


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_dense_jacobian_is_W(mode):
    rng = np.random.default_rng(11)
    W = rng.standard_normal((4, 6))
    chain = cb.Chain([cb.Dense(W, rng.standard_normal(4))])
    np.testing.assert_array_equal(cb.jacobian(chain, rng.standard_normal(6), mode=mode), W)


@pytest.mark.parametrize("name", KINDS)
def test_explicit_rule_writes_any_block_of_the_jacobian(name):
    # Engines seed sweeps with rows or columns of a layer's explicit Jacobian, and mixed mode
    # writes it whole; every block must equal the Jacobian the tangent rule pushes out.
    rng = np.random.default_rng(13)
    chain = one_layer(name, 6)
    x = 2.0 * rng.standard_normal(6)
    full = cb.jvp(chain, x, np.eye(6))[1]  # tangent rule, no explicit block involved
    tape = cb.record_tape(chain, x)
    row, params = chain.program.table[0], chain.program.params
    out, n = full.shape
    for i0 in range(out):
        for j0 in range(n):
            R, C = int(rng.integers(1, out - i0 + 1)), int(rng.integers(1, n - j0 + 1))
            J = np.full((R, C), np.nan)
            assert layer_explicit(row, params, tape.values, i0, j0, J) == R * C
            np.testing.assert_allclose(J, full[i0 : i0 + R, j0 : j0 + C], rtol=1e-14,
                                       atol=1e-16, err_msg=f"{name} block ({i0}, {j0}, {R}, {C})")


@pytest.mark.parametrize("out_in", [(1, 1), (3, 70), (64, 64), (65, 64), (1, 4097)])
@pytest.mark.parametrize("rows", [1, 3])
def test_dense_rules_agree_on_both_sides_of_the_small_loop_threshold(out_in, rows):
    # up to SMALL entries W x and u W run as loops (u W over the stored Wᵀ), above it
    # through BLAS; both must give numpy's products, value and VJP alike
    assert (64 * 64 <= SMALL) and (65 * 64 > SMALL)
    rng = np.random.default_rng(sum(out_in) + rows)
    W, b = rng.standard_normal(out_in), rng.standard_normal(out_in[0])
    chain = cb.Chain([cb.Dense(W, b)])
    x, U = rng.standard_normal(out_in[1]), rng.standard_normal((rows, out_in[0]))
    y, UJ = cb.vjp(chain, x, U)
    np.testing.assert_allclose(y, W @ x + b, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(UJ, U @ W, rtol=1e-13, atol=1e-13)
    params = chain.layers[0].params
    if W.size <= SMALL:  # Wᵀ stored after W and b, from an 8-float boundary
        off = transpose_offset(out_in[1], out_in[0])
        assert off % 8 == 0 and off >= W.size + b.size
        np.testing.assert_array_equal(params[off:].reshape(W.T.shape), W.T)
    else:
        assert params.size == W.size + b.size


def test_every_layer_block_starts_64_byte_aligned():
    # vector loads straddling cache lines cost a small gradient 15 %, depending on malloc
    chain = cb.Chain.from_spec("dense:5 tanh dense:3 softmax dense:7 dense:1", n=3, seed=0)
    program = chain.program
    assert program.params.ctypes.data % 64 == 0
    assert all(off % 8 == 0 for off in program.table[:, 3])  # P_OFF
    for layer, off in zip(chain.layers, program.table[:, 3]):
        p = layer.params
        np.testing.assert_array_equal(program.params[off : off + p.size], p)


def test_kink_guard_flags_only_steps_across_zero():
    # fd_point redraws x where kink_crossed says a difference step crosses a ReLU kink; the
    # guard must fire there (or the ReLU comparisons could be wrong) and only there.
    chain = cb.Chain([cb.ReLU()], n=3)
    assert kink_crossed(chain, np.array([1.0, 1e-7, -2.0]))
    assert not kink_crossed(chain, np.array([1.0, 1e-4, -2.0]))
    deep = cb.Chain([cb.Dense(np.eye(2)), cb.Tanh(), cb.Dense(np.eye(2)), cb.ReLU()])
    assert kink_crossed(deep, np.array([np.arctanh(-1e-7), 0.5]))  # ReLU input tanh(x0) ≈ -1e-7
    assert not kink_crossed(cb.Chain([cb.Tanh()], n=2), np.zeros(2))  # no kinked layer


@pytest.mark.parametrize("name", KINDS)
def test_every_registered_layer_is_public_by_its_class_name(name):
    cls = LAYERS[name]
    assert getattr(cb, cls.__name__) is cls and cls.__name__ in dir(cb)
