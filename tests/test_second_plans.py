"""The second-order plans (``cost.second_plans``): their counters equal the closed forms on
random chains for every mode, Hessian and HVP; the time model prices them; the memory guard
refuses a Hessian that would not fit, from the API and from the command line (exit 2)."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import KINDS, SHAPES, random_chain

import chainbench as cb
from chainbench import provenance, second_order
from chainbench.cost.hessian_plan import plan_hessian
from chainbench.cost.second_order import HESSIAN_MODES, predict_second
from chainbench.cost.second_plans import optimal_plan, second_plan
from chainbench.cost.time_model import price_plan
from chainbench.errors import TooLarge
from chainbench.machine.current import current_profile


def test_every_plan_counts_what_the_closed_forms_say():
    for seed in range(240):
        rng = np.random.default_rng(seed)
        shape = random_chain(rng, shape=SHAPES[seed % 3], include=KINDS[seed % len(KINDS)],
                             max_width=8).shape
        chunk, k = int(rng.integers(1, shape.n + 1)), int(rng.integers(1, 4))
        for mode in HESSIAN_MODES:
            for args in ({}, {"chunk": chunk}, {"chunk": k, "lanes": k, "seeded": False}):
                assert second_plan(shape, mode, **args).prediction() == \
                    predict_second(shape, mode, **args), (mode, args, shape)
        assert optimal_plan(shape).prediction() == plan_hessian(shape)[1], shape


@pytest.mark.parametrize("spec, n", [
    ("dense:8 tanh dense:64 tanh dense:64 sigmoid dense:1", 64),  # bracketed
    ("dense:12 tanh dense:12 tanh dense:1", 12),  # whole
])
def test_hessian_optimal_plan_counts_as_its_kernels(spec, n):
    chain = cb.Chain.from_spec(spec, n=n, seed=2)
    _, stats = cb.hessian(chain, np.linspace(-1, 1, n), mode="hessian-optimal",
                          return_stats=True)
    assert optimal_plan(chain.shape).prediction() == stats


def test_a_bound_hessian_is_priced_from_its_plan():
    chain = cb.Chain.from_spec("dense:16 tanh dense:16 softmax dense:1", n=16, seed=0)
    profile = current_profile()
    for mode in ("forward-over-reverse", "reverse-over-forward", "forward-over-forward",
                 "hessian-optimal"):
        bound = cb.bind(chain, mode, order=2)
        t = bound.price()
        assert t.seconds > 0 and t == price_plan(bound.plan, profile)
        assert t == cb.predict_hessian_time(chain, mode, profile=profile)
        assert bound.plan.bytes_held >= 8 * 16 * 16  # H is held
    # hyper-dual lanes: O(n⁴) against O(n³), priced slower on a square chain
    fof = cb.predict_hessian_time(chain, "forward-over-forward", 4).seconds
    assert fof > cb.predict_hessian_time(chain, "forward-over-reverse", 4).seconds


def _tiny_memory(monkeypatch, room):
    monkeypatch.setattr(provenance, "available_memory", lambda: room)
    monkeypatch.setattr(second_order, "CHECK_ABOVE", 0)


def test_the_memory_guard_refuses_a_hessian_that_would_not_fit(monkeypatch):
    chain = cb.Chain.from_spec("dense:32 tanh dense:1", n=32)
    x = np.zeros(32)
    need = cb.bind(chain, "forward-over-reverse", 4, order=2).plan.bytes_held
    _tiny_memory(monkeypatch, need - 1)
    for call in (lambda: cb.hessian(chain, x, mode="forward-over-reverse", chunk=4),
                 lambda: cb.bind(chain, "forward-over-reverse", 4, order=2),
                 lambda: cb.hvp(chain, x, np.ones((32, 32)) , mode="forward-over-forward")):
        with pytest.raises(TooLarge, match=r"needs about .* GiB, more than the .* available; "
                                           "ask for a smaller chunk"):
            call()
    _tiny_memory(monkeypatch, need)  # exactly enough: runs
    assert cb.hessian(chain, x, mode="forward-over-reverse", chunk=4).shape == (32, 32)


def test_predict_order_2_refuses_a_hessian_that_does_not_fit(monkeypatch, capsys):
    from chainbench.cli import main

    _tiny_memory(monkeypatch, 1000)
    assert main(["predict", "dense:8 tanh", "--n", "64", "--m", "1", "--order", "2"]) == 2
    err = capsys.readouterr().err
    assert "the 64 × 64 Hessian needs about" in err and "Traceback" not in err


def test_hyper_dual_default_chunk_keeps_its_lane_blocks_in_cache():
    from chainbench.cost.second_order import HYPER_BLOCK_BYTES, HYPER_MIN_CHUNK, default_chunk

    for n in (8, 32, 64, 128, 512, 1024):
        shape = cb.ChainShape.from_spec(f"dense:{n} tanh dense:{n} tanh dense:1", n)
        c = default_chunk(shape, "forward-over-forward")
        block = 2 * 8 * n * c * n  # two (w × c·n) second-order lane blocks, w = n
        assert 1 <= c <= n
        assert block <= HYPER_BLOCK_BYTES or c <= HYPER_MIN_CHUNK, (n, c)
        if c < n:  # the largest chunk that does: one more lane would leave the cache
            assert 2 * 8 * n * (c + 1) * n > HYPER_BLOCK_BYTES or c == HYPER_MIN_CHUNK or \
                n >= 1024, (n, c)
    assert default_chunk(cb.ChainShape.from_spec("dense:128 tanh dense:1", 128),
                         "forward-over-forward") == HYPER_MIN_CHUNK  # 1/8 repeat at most


def test_auto_with_a_chunk_weighs_the_modes_with_lanes_at_that_chunk():
    chain = cb.Chain.from_spec("dense:8 tanh dense:64 tanh dense:64 sigmoid dense:1", n=64)
    assert cb.bind(chain, order=2).mode == "hessian-optimal"  # without a chunk
    _, stats = cb.hessian(chain, np.linspace(-1, 1, 64), chunk=3, return_stats=True)
    assert stats.chunk == 3 and stats.mode in HESSIAN_MODES
    profile = current_profile()
    best = min(HESSIAN_MODES, key=lambda m: price_plan(second_plan(chain.shape, m, 3),
                                                       profile).seconds)
    assert stats.mode == best
    with pytest.raises(ValueError, match="chunk must be between 1 and the number of inputs"):
        cb.hessian(chain, np.zeros(64), chunk=65)
