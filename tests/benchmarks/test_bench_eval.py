"""Benchmarks of the plain chain evaluation F (the denominator of J/F): the gate's F cases
and the scaling series."""

from __future__ import annotations

import numpy as np
import pytest
from bench_helpers import build, extra_info, params

import chainbench as cb
from chainbench.gate.cases import CASES, SCALING_N, scaling_cases

EVALUATIONS = params([c for c in (*CASES, *scaling_cases(SCALING_N, ("F",)))
                      if c.kind == "evaluate"])


def _reference(chain, x):
    """F by numpy, layer by layer (the benchmark chains hold only dense and tanh)."""
    for layer in chain.layers:
        x = layer.W @ x + layer.b if isinstance(layer, cb.Dense) else np.tanh(x)
    return x


@pytest.mark.parametrize("case", EVALUATIONS)
def test_evaluate(benchmark, case):
    chain, x = build(case)
    np.testing.assert_allclose(chain(x), _reference(chain, x), rtol=1e-10)  # and JIT warm-up
    benchmark.group = "F"
    benchmark.extra_info.update(extra_info(case),
                                madds=cb.predict(chain, "reverse").madds_value)
    benchmark(chain, x)
