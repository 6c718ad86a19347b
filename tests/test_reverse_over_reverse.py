"""Reverse-over-reverse on the operation-level tape: the primitives' second partials against
differences of their first partials, the tape's curved entries counted by hand, and a layer
without a lowering refused by this mode only (its Hessians are checked against every other
mode and JAX with the others, in test_second_order.py)."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench.cost.second_order import runnable
from chainbench.model.lowering import NotLowered, layout
from chainbench.model.primitives import PRIMITIVES

ROR = "reverse-over-reverse"


def _operands(name: str, rng) -> tuple[float, float, float]:
    """a, b, c away from kinks and poles (|·|, max at a = b, div at b = 0, log1p at a = −1)."""
    a, b, c = rng.uniform(-2, 2, 3)
    if name == "div":
        b = np.sign(b) * (0.5 + abs(b))
    if name == "log1p":
        a = abs(a)
    if name in ("abs", "max", "maxc", "minc") and min(abs(a), abs(a - b), abs(a - c)) < 0.1:
        a += 0.3
    return float(a), float(b), float(c)


@pytest.mark.parametrize("p", PRIMITIVES, ids=lambda p: p.name)
def test_second_partials_are_the_differences_of_the_first(p):
    rng = np.random.default_rng(len(p.name))
    h = 1e-5
    for _ in range(20):
        a, b, c = _operands(p.name, rng)
        _, pa_hi, pb_hi = p.rule(a + h, b, c)
        _, pa_lo, pb_lo = p.rule(a - h, b, c)
        d_a = ((pa_hi - pa_lo) / (2 * h), (pb_hi - pb_lo) / (2 * h))
        _, pa_hi, pb_hi = p.rule(a, b + h, c)
        _, pa_lo, pb_lo = p.rule(a, b - h, c)
        d_b = ((pa_hi - pa_lo) / (2 * h), (pb_hi - pb_lo) / (2 * h))
        if p.arity == 1:
            d_b = (0.0, 0.0)  # b is the sink: no second partial in it
            d_a = (d_a[0], 0.0)
        expected = (d_a[0], d_b[0], d_b[1])  # ∂²/∂a², ∂²/∂a∂b, ∂²/∂b²
        got = p.second(a, b, c) if p.curved else (0.0, 0.0, 0.0)
        assert np.allclose(got, expected, rtol=1e-6, atol=1e-6), (p.name, a, b, c, got, expected)
        if p.arity == 2:  # the mixed partial, from either operand
            assert np.isclose(d_a[1], d_b[0], rtol=1e-5, atol=1e-6)


def test_the_tape_keeps_one_row_per_curved_operation_and_counts_by_hand():
    # dense:4 (mulc, add, addc: affine), tanh (4 curved unary ops), dense:1
    chain = cb.Chain.from_spec("dense:4 tanh dense:1", n=3, seed=2)
    lay = layout(chain.shape)
    assert lay.curved == (0, 4, 0) and lay.curvature == (0, 4, 0)
    E, P = lay.total, lay.total_partials
    H, stats = cb.hessian(chain, np.array([0.3, -0.2, 0.5]), mode=ROR, chunk=2,
                          return_stats=True)
    assert stats.madds_curvature == 4 + 3 * 4  # each kept once, then once per direction
    assert stats.madds_tangent == 3 * P and stats.madds_adjoint == P + 3 * P
    assert stats.madds_value == stats.tape_entries == E
    assert (stats.sweeps_forward, stats.sweeps_backward) == (3, 3)  # 1 + ⌈3/2⌉ each
    assert np.allclose(H, cb.hessian(chain, np.array([0.3, -0.2, 0.5]),
                                     mode="forward-over-reverse"), rtol=1e-12, atol=1e-15)


def test_a_layer_without_a_lowering_is_refused_by_this_mode_only(monkeypatch):
    chain = cb.Chain.from_spec("dense:4 sigmoid dense:1", n=3, seed=0)
    monkeypatch.setattr(cb.Sigmoid, "scalar_lowering", None)
    x = np.ones(3)
    with pytest.raises(NotLowered, match=r"Sigmoid has no lowering"):
        cb.hessian(chain, x, mode=ROR)
    assert ROR not in runnable(chain.shape)
    assert cb.bind(chain, order=2).mode != ROR
    assert cb.hessian(chain, x, mode="forward-over-reverse").shape == (3, 3)


def test_predict_order_2_ranks_reverse_over_reverse(capsys):
    from chainbench.cli import main

    assert main(["predict", "dense:8 tanh dense:1", "--n", "8", "--order", "2"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ROR in rows


def test_an_affine_chain_with_a_layer_without_a_lowering_is_refused_too(monkeypatch):
    chain = cb.Chain.from_spec("dense:4 relu dense:1", n=3, seed=0)  # no curvature: H = 0
    monkeypatch.setattr(cb.ReLU, "scalar_lowering", None)
    with pytest.raises(NotLowered, match=r"ReLU has no lowering"):
        cb.hessian(chain, np.ones(3), mode=ROR)
    assert not cb.hessian(chain, np.ones(3), mode="forward-over-reverse").any()
