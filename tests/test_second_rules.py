"""Each registered layer's second-order rules against finite differences of its first-order
rules: the curvature term (ȳ·∇²f)[ẋ] against differences of the VJP, the pair term
∇²f[ℓ, r] against differences of the JVP; their multiply-adds against ``second_cost``."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import H, KINDS, assert_matches_fd, fd_point, token
from numba import njit

import chainbench as cb
from chainbench import LAYERS
from chainbench.model.layers import Layer, Rules, register
from chainbench.model.layers.dispatch import (
    W_OUT,
    layer_curvature,
    layer_pairs,
    layer_record,
    layer_record2,
    layer_tangent,
)


@njit(cache=False)
def _second(table, params, x, X_dot, Y_bar, L, R):
    """The curvature and pair terms of the chain's only layer, and their counted madds."""
    row = table[0]
    w_out = row[W_OUT]
    y, saved, curv = np.empty(w_out), np.zeros(w_out), np.zeros(w_out)
    layer_record(row, params, x, y, saved)
    record = layer_record2(row, params, x, y, saved, curv)
    Y_dot = np.empty((w_out, X_dot.shape[1]))
    layer_tangent(row, params, saved, X_dot, Y_dot)
    Z = np.zeros((X_dot.shape[1], x.shape[0]))
    curvature = layer_curvature(row, params, saved, curv, X_dot, Y_dot, Y_bar, Z)
    R_out = np.empty((w_out, R.shape[1]))
    layer_tangent(row, params, saved, R, R_out)
    S = np.zeros((w_out, L.shape[1] * R.shape[1]))
    pairs = layer_pairs(row, params, saved, curv, L, R, R_out, S)
    return Z, S, np.array([record, curvature, pairs])


def _layer_chain(name: str, n: int, seed: int) -> cb.Chain:
    out = n + 2 if LAYERS[name].takes_width else n
    return cb.Chain.from_spec(token(name, n, out), n=n, seed=seed)


def _diff(f, x, d):
    """Central difference of f at x along d (the step relative to max(1, |x|))."""
    h = H * max(1.0, float(np.abs(x).max()))
    return (f(x + h * d) - f(x - h * d)) / (2 * h)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("seed", range(3))
def test_curvature_and_pairs_match_differences_of_first_order_rules(name, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    chain = _layer_chain(name, n, seed)
    m, c, p = chain.m, 3, 2
    x = fd_point(chain, rng, scale=2.0)
    X_dot, L, R = (rng.standard_normal((n, k)) for k in (c, c, p))
    for Y_bar in (rng.standard_normal((1, m)), rng.standard_normal((c, m))):  # shared, paired
        prog = chain.program
        Z, S, madds = _second(prog.table, prog.params, x, X_dot, Y_bar, L, R)
        for l in range(c):
            u = Y_bar[l if Y_bar.shape[0] > 1 else 0]
            fd = _diff(lambda z: cb.vjp(chain, z, u)[1], x, X_dot[:, l])
            assert_matches_fd(Z[l], fd, f"{name}: curvature lane {l}")
    for a in range(c):
        for b in range(p):
            fd = _diff(lambda z: cb.jvp(chain, z, L[:, a])[1], x, R[:, b])
            assert_matches_fd(S[:, a * p + b], fd, f"{name}: pair ({a}, {b})")
    cost = chain.layers[0].kind.second_cost(n, m)
    assert tuple(madds) == (cost.record, cost.curvature * c, cost.pair * c * p)


@pytest.mark.parametrize("name", KINDS)
def test_pairs_are_symmetric(name):
    """∇²f[ℓ, r] = ∇²f[r, ℓ]: the pair rule is a symmetric bilinear form."""
    rng = np.random.default_rng(7)
    chain = _layer_chain(name, 5, 7)
    x, D = rng.standard_normal(5), rng.standard_normal((2, 5)).T.copy()
    prog = chain.program
    ell, r, u = D[:, :1].copy(), D[:, 1:].copy(), np.ones((1, chain.m))
    _, S_lr, _ = _second(prog.table, prog.params, x, D, u, ell, r)
    _, S_rl, _ = _second(prog.table, prog.params, x, D, u, r, ell)
    np.testing.assert_allclose(S_lr, S_rl, rtol=1e-13, atol=1e-15)


def test_linear_layers_have_no_curvature():
    """Dense, conv and grouped are affine: every second-order term is exactly zero."""
    rng = np.random.default_rng(3)
    for name in ("dense", "conv", "grouped"):
        chain = _layer_chain(name, 4, 3)
        prog = chain.program
        Z, S, madds = _second(prog.table, prog.params, rng.standard_normal(4),
                              rng.standard_normal((4, 2)), rng.standard_normal((1, chain.m)),
                              rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))
        assert not Z.any() and not S.any() and not madds.any()


def test_activation_second_derivatives_at_known_points():
    """g'' at points where it is known in closed form, beside the FD checks above."""
    z = np.array([-1.3, 0.4, 2.0])
    known = {"tanh": -2 * np.tanh(z) / np.cosh(z) ** 2, "sin": -np.sin(z),
             "sigmoid": (s := 1 / (1 + np.exp(-z))) * (1 - s) * (1 - 2 * s),
             "softplus": s * (1 - s), "relu": np.zeros(3), "elu": np.where(z > 0, 0, np.exp(z))}
    for name, expected in known.items():
        chain = cb.Chain.from_spec(name, n=3)
        prog = chain.program
        Z, _, _ = _second(prog.table, prog.params, z, np.eye(3), np.ones((1, 3)),
                          np.eye(3), np.eye(3))
        np.testing.assert_allclose(np.diag(Z), expected, rtol=1e-13, atol=1e-300,
                                   err_msg=name)


def test_a_layer_without_second_order_rules_is_refused():
    class Bare(Layer):
        name = "bare"
        rules = Rules(*[None] * len(Rules.names()))

    with pytest.raises(TypeError, match="rules2"):
        register(Bare)


def test_second_order_rules_against_jax_hessian():
    """Each layer's ȳ·∇²f against jax.hessian of the same layer (skips without jax)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from chainbench.peers import jax_peer
    from chainbench.peers._common import composed  # the chain as the peers rebuild it

    rng = np.random.default_rng(11)
    for name in KINDS:
        chain = _layer_chain(name, 4, 11)
        f = composed(chain.program, jax_peer.RULES, "jax", jax.numpy.asarray)
        u, x = rng.standard_normal(chain.m), rng.standard_normal(4)
        H_jax = np.asarray(jax.hessian(lambda z: jax.numpy.dot(u, f(z)))(x))
        prog = chain.program
        Z, _, _ = _second(prog.table, prog.params, x, np.eye(4), u[None], np.eye(4), np.eye(4))
        np.testing.assert_allclose(Z, H_jax, rtol=1e-10, atol=1e-12, err_msg=name)

