"""Benchmarks of the Jacobian engines over a small grid: mode x n x m x depth, and the chunk
where it changes the work pattern. Each benchmark first checks its Jacobian against the other
engine (dot-product test) and its counters against the cost model, which also compiles the
kernels, so the compile never lands in a timed round."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench.regression_guards import GUARD_N, SCALING_N


def _cases():
    """(mode, n, m, depth, chunk, quick) for every benchmark, without duplicates."""
    cases = {}

    def add(mode, n, m=1, depth=4, chunk=None, quick=False):
        key = (mode, n, m, depth, chunk)
        cases[key] = cases.get(key, False) or quick

    for mode in ("forward", "reverse"):
        for n in SCALING_N:
            add(mode, n, quick=n in GUARD_N)
        for m in (1, 16):  # shape grid at n = 128
            for depth in (2, 4):
                add(mode, 128, m, depth, quick=m == 16)
    # chunk where it matters: forward lanes per sweep over n, reverse rows per sweep over m
    add("forward", 128, chunk=1, quick=True)
    add("forward", 128, chunk=16)
    add("reverse", 128, m=16, chunk=1, quick=True)
    add("reverse", 128, m=16, chunk=4)
    # the core speed targets (chainbench speed compares them with numpy):
    # a small gradient end to end, where per-call overheads dominate, and square Jacobians
    add("reverse", 32, quick=True)
    for mode in ("forward", "reverse"):
        add(mode, 512, m=512)
    return [
        pytest.param(*key, id=_case_id(*key), marks=[pytest.mark.quick] if quick else [])
        for key, quick in cases.items()
    ]


def _case_id(mode, n, m, depth, chunk):
    return f"{mode}-n{n}-m{m}-d{depth}-c{chunk or 'auto'}"


def _check_against_other_engine(chain, x, J, mode):
    """Dot-product test with two random directions through the engine *not* under test:
    forward J is checked by reverse VJPs (U J), reverse J by forward JVPs (J V)."""
    rng = np.random.default_rng(2)
    if mode == "forward":
        U = rng.standard_normal((2, chain.m))
        np.testing.assert_allclose(U @ J, cb.vjp(chain, x, U)[1], rtol=1e-9, atol=1e-12)
    else:
        V = rng.standard_normal((chain.n, 2))
        np.testing.assert_allclose(J @ V, cb.jvp(chain, x, V)[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode, n, m, depth, chunk", _cases())
def test_jacobian(benchmark, standard_chain, mode, n, m, depth, chunk):
    chain, x = standard_chain(n, m, depth)
    J, stats = cb.jacobian(chain, x, mode=mode, chunk=chunk, return_stats=True)  # JIT warm-up
    _check_against_other_engine(chain, x, J, mode)
    predicted = cb.predict(chain, mode, chunk)
    assert stats.madds == predicted.madds, f"engine counted {stats.madds}, model {predicted.madds}"

    benchmark.group = mode
    benchmark.extra_info.update(
        kind="jacobian", mode=mode, n=n, m=m, depth=depth, chunk=chunk or "auto",
        chunk_used=stats.chunk, madds=predicted.madds, spec=chain.spec,
    )
    J_timed = benchmark(cb.jacobian, chain, x, mode=mode, chunk=chunk)
    np.testing.assert_array_equal(J_timed, J)
