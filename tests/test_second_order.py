"""Hessians and Hessian-vector products: every mode against every other, against central
differences of the gradient (``vjp``), symmetric, H v = H @ v, counters equal to the
closed-form predictions, and bad input refused with a message saying what to pass."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import KINDS, SHAPES, assert_matches_fd, random_chain
from chain_helpers import H as STEP

import chainbench as cb
from chainbench.cost.second_plans import second_plan
from chainbench.cost.time_model import price_plan
from chainbench.machine.current import current_profile
from chainbench.second_order import auto_second, predict_hessian, predict_hessian_time, predict_hvp

MODES = tuple(mode for mode in cb.HESSIAN_MODES if mode != "auto")
HVP_MODES = tuple(m for m in MODES if m != "hessian-optimal")  # a Hessian only
OPTIMAL = "hessian-optimal"
#: Layers whose first derivative has a kink (ReLU) or whose second has a jump at 0 (ELU):
#: central differences of the gradient are wrong where a step crosses 0.
KINKED = (cb.ReLU, cb.ELU)
CHAINS = 210
AD_RTOL = 1e-10


def _kink_crossed(chain, x) -> bool:
    for k, layer in enumerate(chain.layers):
        if isinstance(layer, KINKED):
            before = cb.Chain(chain.layers[:k], n=chain.n) if k else (lambda v: v)
            z = before(x)
            for j in range(x.size):
                for sign in (1.0, -1.0):
                    xs = x.copy()
                    xs[j] += sign * STEP * max(1.0, abs(x[j]))
                    if not np.array_equal(before(xs) > 0, z > 0):
                        return True
    return False


def _point(chain, rng) -> np.ndarray:
    for _ in range(30):
        x = rng.standard_normal(chain.n)
        if not _kink_crossed(chain, x):
            return x
    raise AssertionError(f"no kink-free point for {chain!r}")


def _fd_hessian(chain, x, u) -> np.ndarray:
    """Central differences of the gradient of u·f, column by column."""
    cols = []
    for j in range(x.size):
        h = STEP * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        cols.append((cb.vjp(chain, xp, u)[1] - cb.vjp(chain, xm, u)[1]) / (xp[j] - xm[j]))
    return np.stack(cols, axis=1)


def _same(A, B, what):
    scale = max(1.0, float(np.abs(A).max(initial=0.0)))
    np.testing.assert_allclose(A, B, rtol=AD_RTOL, atol=AD_RTOL * scale, err_msg=what)


def _chains():
    for seed in range(CHAINS):
        rng = np.random.default_rng(1000 + seed)
        chain = random_chain(rng, shape=SHAPES[seed % 3], include=KINDS[seed % len(KINDS)],
                             max_width=8)
        yield seed, rng, chain


def test_every_mode_agrees_with_the_others_and_with_differences_of_the_gradient():
    seen = set()
    for seed, rng, chain in _chains():
        seen |= {layer.name for layer in chain.layers}
        x = _point(chain, rng)
        u = rng.standard_normal(chain.m) if seed % 2 else None  # default: all ones
        chunk = int(rng.integers(1, chain.n + 1))
        results = {}
        for mode in MODES:
            lanes = None if mode == OPTIMAL else chunk
            H, stats = cb.hessian(chain, x, mode=mode, weights=u, chunk=lanes, return_stats=True)
            results[mode] = H
            assert stats == predict_hessian(chain, mode, lanes), f"{mode} counters, {chain!r}"
            _same(H, H.T, f"{mode} not symmetric on {chain!r}")
        reference = results[MODES[0]]
        for mode in MODES[1:]:
            _same(results[mode], reference, f"{mode} vs {MODES[0]} on {chain!r}")
        weights = np.ones(chain.m) if u is None else u
        assert_matches_fd(reference, _fd_hessian(chain, x, weights), f"FD on {chain!r}")
    assert seen == set(KINDS), "every registered layer drawn"


def test_hvp_is_the_hessian_times_v_in_every_mode():
    for seed, rng, chain in list(_chains())[:60]:
        x, u = rng.standard_normal(chain.n), rng.standard_normal(chain.m)
        H = cb.hessian(chain, x, mode="forward-over-reverse", weights=u)
        k = int(rng.integers(1, 4))
        V = rng.standard_normal((chain.n, k))
        for mode in HVP_MODES:
            HV, stats = cb.hvp(chain, x, V, mode=mode, weights=u, return_stats=True)
            _same(HV, H @ V, f"{mode} hvp on {chain!r}")
            assert stats == predict_hvp(chain, mode, k), f"{mode} hvp counters on {chain!r}"
            _same(cb.hvp(chain, x, V[:, 0], mode=mode, weights=u), H @ V[:, 0], f"{mode} 1-D")


def test_an_affine_chain_has_a_zero_hessian_and_runs_nothing():
    chain = cb.Chain.from_spec("dense:6 conv:3 grouped:4:2", n=4)
    H, stats = cb.hessian(chain, np.ones(4), mode="forward-over-reverse", return_stats=True)
    assert H.shape == (4, 4) and not H.any() and stats.madds == 0


@pytest.mark.parametrize("spec, n, saving", [
    ("dense:8 tanh dense:64 tanh dense:64 sigmoid dense:1", 64, 4),  # narrow, then wide
    ("dense:4 tanh dense:4 softmax dense:48 tanh dense:48 elu dense:2", 48, 4),
    ("dense:12 tanh dense:12 tanh dense:1", 12, 1),  # square: nothing to save, runs whole
])
def test_hessian_optimal_brackets_where_it_pays(spec, n, saving):
    chain = cb.Chain.from_spec(spec, n=n, seed=3)
    x, u = np.random.default_rng(3).standard_normal((2, n))[0], np.ones(chain.m)
    H, stats = cb.hessian(chain, x, mode=OPTIMAL, return_stats=True)
    assert stats == predict_hessian(chain, OPTIMAL)
    plain = predict_hessian(chain, "forward-over-reverse").madds
    assert plain / stats.madds >= saving
    _same(H, cb.hessian(chain, x, mode="forward-over-reverse", weights=u), spec)


def test_auto_takes_the_mode_predicted_fastest():
    chain = cb.Chain.from_spec("dense:12 tanh dense:12 sigmoid dense:1", n=12)
    picked = predict_hessian_time(chain).seconds
    for mode in MODES:  # at every mode's default chunk, and at a few others
        for chunk in (None,) if mode == OPTIMAL else (None, 1, 4, 12):
            assert picked <= predict_hessian_time(chain, mode, chunk).seconds, (mode, chunk)
    assert predict_hessian(chain).mode == auto_second(chain)
    x = np.linspace(-1, 1, 12)
    _same(cb.hessian(chain, x), cb.hessian(chain, x, mode=auto_second(chain)), "auto")
    hvp_mode = predict_hvp(chain, "auto", 2).mode
    hvp_s = price_plan(second_plan(chain.shape, hvp_mode, 2, 2, seeded=False), current_profile())
    for mode in HVP_MODES:
        other = price_plan(second_plan(chain.shape, mode, 2, 2, seeded=False), current_profile())
        assert hvp_s.seconds <= other.seconds, mode
    V = np.ones((12, 2))
    _same(cb.hvp(chain, x, V), cb.hvp(chain, x, V, mode=hvp_mode), "hvp auto")


def test_predicted_costs_grow_as_n_cubed_mixed_and_n_to_the_fourth_hyper_dual():
    def madds(mode, n):  # a fixed chunk: the default one shrinks as hyper-dual lanes grow
        shape = cb.ChainShape.from_spec(f"dense:{n} tanh dense:{n} tanh dense:{n} tanh dense:1", n)
        return predict_hessian(shape, mode, chunk=4).madds

    for mode, exponent in (("forward-over-reverse", 3), ("reverse-over-forward", 3),
                           ("reverse-over-reverse", 3), ("forward-over-forward", 4)):
        ratio = madds(mode, 1024) / madds(mode, 512)
        assert 2 ** (exponent - 0.1) < ratio < 2 ** (exponent + 0.1), (mode, ratio)
    assert madds("forward-over-reverse", 256) < madds("reverse-over-forward", 256)


CHAIN = "dense:3 tanh dense:1"


@pytest.mark.parametrize("call, error, match", [
    (lambda c: cb.hessian(c, np.ones(2), mode="newton"), ValueError,
     "unknown second-order mode 'newton'; known: forward-over-reverse"),
    (lambda c: cb.hvp(c, np.ones(2), np.ones(2), mode="newton"), ValueError, "known: forward-"),
    (lambda c: cb.hvp(c, np.ones(2), np.ones(3)), ValueError, r"v must have shape \(2,\) or"),
    (lambda c: cb.hvp(c, np.ones(2), np.ones((2, 0))), ValueError, r"v must have shape"),
    (lambda c: cb.hvp(c, np.ones(2), np.array(["a", "b"])), TypeError, "real numbers"),
    (lambda c: cb.hessian(c, np.ones(3)), ValueError, r"x must have shape \(2,\)"),
    (lambda c: cb.hessian(c, np.ones(2), weights=np.ones(2)), ValueError,
     r"weights must have shape \(1,\)"),
    (lambda c: cb.hessian(c, np.ones(2), weights=[[1.0]]), ValueError, "weights must have"),
    (lambda c: cb.hessian(c, np.ones(2), chunk=3), ValueError, "chunk must be between 1"),
    (lambda c: cb.hessian(c, np.ones(2), chunk=1.0), TypeError, "chunk must be an integer"),
    (lambda c: cb.hessian(c, np.ones(2), mode="hessian-optimal", chunk=1), ValueError,
     "takes no chunk"),
    (lambda c: cb.hvp(c, np.ones(2), np.ones(2), mode="hessian-optimal"), ValueError,
     "unknown second-order mode"),
    (lambda c: cb.hessian("dense:3", np.ones(2)), TypeError, "chain must be a chainbench.Chain"),
])
def test_bad_input_says_what_to_pass(call, error, match):
    with pytest.raises(error, match=match):
        call(cb.Chain.from_spec(CHAIN, n=2))


def test_bind_order_2_is_a_bound_hessian_resolved_once():
    chain = cb.Chain.from_spec("dense:6 tanh dense:6 softmax dense:1", n=6, seed=1)
    x, v = np.random.default_rng(1).standard_normal((2, 6))
    bound = cb.bind(chain, order=2)  # 'auto': resolved here, to the fastest predicted
    assert isinstance(bound, cb.BoundHessian) and bound.asked == "auto"
    assert bound.mode == auto_second(chain) and bound.chunk == bound.predict().chunk
    H, stats = bound(x, return_stats=True)
    assert stats == bound.predict() == predict_hessian(chain)
    _same(H, cb.hessian(chain, x, mode="reverse-over-forward"), "bound")
    np.testing.assert_allclose(bound.hvp(x, v), H @ v, rtol=1e-12, atol=1e-14)
    assert np.array_equal(cb.hessian(bound, x), H) and np.array_equal(cb.hvp(bound, x, v),
                                                                       bound.hvp(x, v))
    fof = cb.bind(chain, "forward-over-forward", 2, order=2)
    _, stats = fof(x, return_stats=True)
    assert (fof.mode, fof.chunk, stats.chunk) == ("forward-over-forward", 2, 2)
    assert cb.bind(chain, OPTIMAL, order=2).chunk is None
    assert isinstance(cb.bind(chain, "reverse", order=1), cb.Bound)


@pytest.mark.parametrize("call, error, match", [
    (lambda c: cb.bind(c, order=3), ValueError, r"order must be 1 \(the Jacobian\) or 2"),
    (lambda c: cb.bind(c, order=2.0), ValueError, "order must be 1"),
    (lambda c: cb.bind(c, "reverse", order=2), ValueError, "unknown second-order mode 'reverse'"),
    (lambda c: cb.bind(c, order=2, snapshots=2), ValueError, "order=2 takes no snapshots"),
    (lambda c: cb.bind(c, OPTIMAL, 1, order=2), ValueError, "takes no chunk"),
    (lambda c: cb.bind(c, OPTIMAL, order=2).hvp(np.ones(2), np.ones(2)), ValueError,
     "'hessian-optimal' has no hvp; bind one of forward-over-reverse"),
    (lambda c: cb.hessian(cb.bind(c, "forward-over-reverse", order=2), np.ones(2),
                          mode="forward-over-forward"),
     ValueError, "this bound Hessian runs mode='forward-over-reverse'"),
    (lambda c: cb.hessian(cb.bind(c, order=2), np.ones(2), chunk=1), ValueError,
     "leave mode and chunk unset"),
    (lambda c: cb.bind("dense:3", order=2), TypeError, "chain must be a chainbench.Chain"),
])
def test_bind_order_2_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(cb.Chain.from_spec(CHAIN, n=2))


def test_public_names():
    assert cb.HESSIAN_MODES == (*MODES, "auto")
    assert {"hessian", "hvp", "HESSIAN_MODES"} <= set(dir(cb))


def test_every_mode_equals_jax_hessian():
    """Against jax.hessian of the chain as the peers rebuild it (skips without JAX)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from chainbench.peers import jax_peer
    from chainbench.peers._common import composed

    seen = set()
    for seed, rng, chain in list(_chains())[:200]:  # 200 random chains
        seen |= {layer.name for layer in chain.layers}
        f = composed(chain.program, jax_peer.RULES, "jax", jax.numpy.asarray)
        x, u = rng.standard_normal(chain.n), rng.standard_normal(chain.m)
        reference = np.asarray(jax.hessian(lambda z, f=f, u=u: jax.numpy.dot(u, f(z)))(x))
        for mode in MODES:
            _same(cb.hessian(chain, x, mode=mode, weights=u), reference, f"{mode}, {chain!r}")
        V = rng.standard_normal((chain.n, 2))
        for mode in (*HVP_MODES, "auto"):
            _same(cb.hvp(chain, x, V, mode=mode, weights=u), reference @ V, f"{mode} hvp")
    assert seen == set(KINDS), "every registered layer drawn"
