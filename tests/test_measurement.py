"""The harness's independent measurements see what they claim to: tracemalloc sees a buffer
allocated inside jitted code, and adaptive timing honours its policy."""

import numpy as np
import pytest
from numba import njit

import chainbench as cb
from chainbench.harness.experiment.config import Measure
from chainbench.harness.run.memory import peak_bytes
from chainbench.harness.run.timing import measure


@njit(cache=True)
def _allocate_inside_jit(n):
    buf = np.empty(n)
    for i in range(n):
        buf[i] = i
    return buf.sum()


@pytest.mark.parametrize("megabytes", [8, 80])
def test_peak_sees_buffer_allocated_in_jitted_kernel(megabytes):
    n = megabytes * 2**20 // 8
    _allocate_inside_jit(16)  # compile outside the measurement
    peak = peak_bytes(lambda: _allocate_inside_jit(n))
    assert peak == pytest.approx(n * 8, rel=0.10)


def test_peak_sees_engine_buffers():
    """The reverse engine's tape and row blocks are allocated in its kernel; the traced
    peak of one Jacobian call covers them plus the output J."""
    chain = cb.Chain.from_spec("dense:512 tanh " * 8 + "dense:256", n=512, seed=0)
    x = np.random.default_rng(0).standard_normal(512)
    _, stats = cb.jacobian(chain, x, "reverse", return_stats=True)
    peak = peak_bytes(lambda: cb.jacobian(chain, x, "reverse"))
    expected = stats.bytes_held + chain.m * chain.n * 8
    assert peak == pytest.approx(expected, rel=0.10)


def test_measure_follows_policy():
    calls = []
    policy = Measure(min_sample_ms=2, min_samples=4, min_seconds=0.02, max_seconds=1.0)
    t = measure(lambda: calls.append(1), policy)
    assert t.samples >= 4
    assert t.inner > 1  # an empty call is far shorter than 2 ms, so samples repeat it
    assert t.min <= t.median
    assert t.iqr >= 0
    assert len(calls) >= t.samples * t.inner


def test_measure_stops_at_max_seconds():
    import time

    policy = Measure(min_sample_ms=1, min_samples=1000, min_seconds=10, max_seconds=0.05)
    t0 = time.perf_counter()
    t = measure(lambda: time.sleep(0.002), policy)
    assert time.perf_counter() - t0 < 1.0
    assert 1 <= t.samples < 1000
    assert t.median == pytest.approx(0.002, rel=0.5, abs=0.002)


def test_set_threads_covers_the_blas_numba_calls():
    """numba's np.dot goes through scipy's BLAS, not numpy's; both must be pinned."""
    from chainbench.harness.run.threads import set_threads

    settings = set_threads(1)
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", n=4)
    cb.jacobian(chain, np.ones(4))
    from chainbench.harness.run.threads import thread_settings

    after = thread_settings()
    assert settings["numba_threads"] == 1
    blas = [b for b in after["blas"] if b["library"] != "openmp"]
    assert len(blas) >= 2 and all(b["threads"] == 1 for b in blas)


def test_memory_level_is_the_measured_regime_of_the_working_set(tmp_path, monkeypatch):
    """Rows name the regime the machine profile measured (not sysfs cache sizes)."""
    from machine_helpers import synthetic_profile

    from chainbench.harness.run.point import measure_chain
    from chainbench.machine import current

    monkeypatch.setattr(current, "_CURRENT", synthetic_profile())
    policy = Measure(min_sample_ms=0.1, min_samples=1, min_seconds=1e-3, max_seconds=1e-2)
    for n in (16, 256):
        chain = cb.Chain.from_spec(f"dense:{n} tanh dense:{n} tanh dense:1", n=n)
        row = measure_chain(chain, "reverse", None, policy)
        assert row.memory_level == synthetic_profile().regime(row.working_set_bytes)
    assert row.memory_level == "L2→L3"  # about 1 MiB: at the synthetic L2's capacity


def test_compile_times_are_recorded_beside_the_profile(tmp_path, monkeypatch):
    from chainbench.harness.run import timing
    from chainbench.machine import profile

    monkeypatch.setenv(profile.PROFILE_DIR_ENV, str(tmp_path))
    assert timing.recorded_compile_s() == {}
    timing.record_compile_s("forward", timing.COMPILED, 5.91)
    timing.record_compile_s("forward", timing.LOADED, 0.3)
    assert timing.recorded_compile_s() == {"forward": {"compiled": 5.91, "loaded": 0.3}}
    assert timing.compile_record_path().parent == tmp_path
    assert timing.compile_record_path().name.startswith("compile-")
