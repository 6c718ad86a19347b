"""Benchmarks of the plain chain evaluation F (the denominator of J/F) and of the calibration
the regression gate divides every timing by: a BLAS kernel of known size, which owes nothing
to chainbench's code, so a slower chainbench cannot hide in it."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench.regression_guards import GUARD_N, SCALING_N

#: the BLAS calibration: one (K x K) @ (K x K) product, K**3 multiply-adds
GEMM_K = 256


def _reference(chain, x):
    """F by numpy, layer by layer (the benchmark chains hold only dense and tanh)."""
    for layer in chain.layers:
        x = layer.W @ x + layer.b if isinstance(layer, cb.Dense) else np.tanh(x)
    return x


@pytest.mark.parametrize(
    "n", [pytest.param(n, id=f"n{n}", marks=[pytest.mark.quick] if n in GUARD_N else [])
          for n in SCALING_N]
)
def test_evaluate(benchmark, standard_chain, n):
    chain, x = standard_chain(n)
    np.testing.assert_allclose(chain(x), _reference(chain, x), rtol=1e-10)  # and JIT warm-up
    benchmark.group = "F"
    benchmark.extra_info.update(kind="evaluate", n=n, m=chain.m, depth=4,
                                madds=cb.predict(chain, "reverse").madds_value, spec=chain.spec)
    benchmark(chain, x)


@pytest.mark.quick
def test_calibration_gemm(benchmark):
    """C = A B for (GEMM_K x GEMM_K) matrices, one BLAS thread."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((GEMM_K, GEMM_K)), rng.standard_normal((GEMM_K, GEMM_K))
    C = np.empty((GEMM_K, GEMM_K))
    np.dot(A, B, out=C)
    np.testing.assert_allclose(C[0], A[0] @ B, rtol=1e-12)
    benchmark.group = "calibration"
    benchmark.extra_info.update(kind="calibration", k=GEMM_K, madds=GEMM_K**3)
    benchmark(np.dot, A, B, out=C)
