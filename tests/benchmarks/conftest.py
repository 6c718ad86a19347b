"""Shared set-up of the regression benchmarks (pytest-benchmark).

- BLAS is held to one thread for the whole session, so timings and their ratios are honest.
- ``quick`` marks the subset the quick gate runs (``python -m chainbench.regression check
  --quick``); without ``--benchmark-enable`` every benchmark runs once as a correctness test.
- ``CHAINBENCH_SLOW_ENGINE=MODE[:FACTOR]`` swaps the engine of MODE for one that does its
  work FACTOR times (default 2): a deliberately slowed build that the gate must catch
  (tests/test_regression_gate.py). Never set it otherwise.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.linalg.cython_blas  # noqa: F401  (load the BLAS numba calls before limiting it)
import threadpoolctl

import chainbench as cb
from chainbench import modes
from chainbench.harness.threads import thread_settings

SLOW_ENGINE_ENV = "CHAINBENCH_SLOW_ENGINE"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "quick: benchmark in the quick regression gate (chainbench.regression --quick)"
    )


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record the thread settings (Numba, each BLAS) beside the timings, and the slow flag."""
    machine_info["threads"] = thread_settings()
    machine_info["slow_engine"] = os.environ.get(SLOW_ENGINE_ENV, "")


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread for the session (undone after it, unlike harness.threads.set_threads)."""
    with threadpoolctl.threadpool_limits(1):
        yield


class SlowedEngine:
    """Stands in for an engine: ``jacobian`` (and the calls ``bind`` returns, the path
    ``chainbench.jacobian`` takes) does the engine's whole work ``factor`` times; every other
    attribute is the engine's. The Jacobian and the counters are those of one call, so the
    benchmarks' own checks still pass and only the timing changes."""

    def __init__(self, engine, factor: int):
        self._engine, self._factor = engine, factor

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def jacobian(self, program, x, chunk, J, counts, *rest):
        for _ in range(self._factor - 1):
            self._engine.jacobian(program, x, chunk, np.empty_like(J), np.zeros_like(counts), *rest)
        self._engine.jacobian(program, x, chunk, J, counts, *rest)

    def bind(self, program, chunk):
        def run(x, J, counts):
            self.jacobian(program, x, chunk, J, counts)

        return run


@pytest.fixture(scope="session", autouse=True)
def slow_engine_flag():
    """Apply CHAINBENCH_SLOW_ENGINE=MODE[:FACTOR] for the session, if set."""
    flag = os.environ.get(SLOW_ENGINE_ENV, "")
    if not flag:
        yield
        return
    mode, _, factor = flag.partition(":")
    if mode not in modes.ENGINES:
        raise pytest.UsageError(f"{SLOW_ENGINE_ENV}={flag!r}: mode must be one of {list(modes.ENGINES)}")
    mp = pytest.MonkeyPatch()
    mp.setitem(modes.ENGINES, mode, SlowedEngine(modes.ENGINES[mode], int(factor or 2)))
    yield
    mp.undo()


def standard_spec(n: int, m: int = 1, depth: int = 4) -> str:
    """The standard chain n -> [dense(n), tanh] x depth -> dense(m)."""
    return " ".join([f"dense:{n} tanh"] * depth + [f"dense:{m}"])


@pytest.fixture(scope="session")
def standard_chain():
    """Factory ``(n, m=1, depth=4) -> (chain, x)``: the standard chain with seed 0 and a
    fixed input point x."""

    def build(n: int, m: int = 1, depth: int = 4) -> tuple[cb.Chain, np.ndarray]:
        chain = cb.Chain.from_spec(standard_spec(n, m, depth), n=n, seed=0)
        return chain, np.random.default_rng(1).standard_normal(n)

    return build
