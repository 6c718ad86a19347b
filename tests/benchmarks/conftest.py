"""Shared set-up of the pytest-benchmark suite (``pytest tests/benchmarks --benchmark-enable``).

Its cases are the gate's (``chainbench.gate.cases``), written once: every engine's case plus
the scaling series. Without ``--benchmark-enable`` every benchmark runs once as a
correctness test.

- BLAS is held to one thread for the whole session, so timings and their ratios are honest.
- ``quick`` marks the cases of ``chainbench gate --quick``: ``-m quick`` selects them.
"""

from __future__ import annotations

import pytest
import scipy.linalg.cython_blas  # noqa: F401  (load the BLAS numba calls before limiting it)
import threadpoolctl

from chainbench.harness.run.threads import thread_settings


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: a case of `chainbench gate --quick`")


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record the thread settings (Numba, each BLAS) beside the timings."""
    machine_info["threads"] = thread_settings()


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread for the session (undone after it, unlike harness.run.threads.set_threads)."""
    with threadpoolctl.threadpool_limits(1):
        yield
