"""Benchmarks of the Jacobian engines: the gate's cases (every engine) and the scaling series
of forward and reverse mode. Each benchmark first checks its Jacobian against the other pure
engine (dot-product test) and its counters against the cost model, which also compiles the
kernels, so the compile never lands in a timed round."""

from __future__ import annotations

import numpy as np
import pytest
from bench_helpers import build, extra_info, params

import chainbench as cb
from chainbench.gate.cases import CASES, SCALING_N, scaling_cases

JACOBIANS = params([c for c in (*CASES, *scaling_cases(SCALING_N, ("forward", "reverse")))
                    if c.kind == "jacobian"])


def _check_against_other_engine(chain, x, J, case):
    """Dot-product test with two random directions through an engine *not* under test:
    forward J is checked by reverse VJPs (U J), every other J by forward JVPs (J V)."""
    rng = np.random.default_rng(2)
    tol = {"rtol": case.oracle_rtol, "atol": 1e-12}
    if case.mode == "forward":
        U = rng.standard_normal((2, chain.m))
        np.testing.assert_allclose(U @ J, cb.vjp(chain, x, U)[1], **tol)
    else:
        V = rng.standard_normal((chain.n, 2))
        np.testing.assert_allclose(J @ V, cb.jvp(chain, x, V)[1], **tol)


@pytest.mark.parametrize("case", JACOBIANS)
def test_jacobian(benchmark, case):
    chain, x = build(case)
    J, stats = cb.jacobian(chain, x, mode=case.mode, chunk=case.chunk, return_stats=True)
    _check_against_other_engine(chain, x, J, case)
    predicted = cb.predict(chain, case.mode, case.chunk)
    assert stats.madds == predicted.madds, f"engine counted {stats.madds}, model {predicted.madds}"

    benchmark.group = case.mode
    benchmark.extra_info.update(extra_info(case), chunk_used=stats.chunk, madds=predicted.madds)
    J_timed = benchmark(cb.jacobian, chain, x, mode=case.mode, chunk=case.chunk)
    np.testing.assert_array_equal(J_timed, J)
