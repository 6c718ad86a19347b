"""Timing with adaptive repetition: the first (compiling) call apart, a warm-up, then
samples of at least ``min_sample_ms`` each until enough samples and seconds are in; and the
record of how long each engine's one-time JIT compile (or Numba cache load) took on this
machine, kept beside the machine profile so the next run can say how long it will take."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..experiment.config import Measure


@dataclass(frozen=True)
class Timing:
    """Seconds per call: min, median and interquartile range over samples; each sample
    averages ``inner`` back-to-back calls."""

    min: float
    median: float
    iqr: float
    samples: int
    inner: int
    raw: tuple[float, ...]


def first_call(fn) -> tuple[float, object]:
    """Seconds of the first call (JIT compile or cache load included) and its result."""
    t0 = time.perf_counter_ns()
    result = fn()
    return (time.perf_counter_ns() - t0) * 1e-9, result


#: Seconds sampling one point may last whatever the policy says (``Measure`` refuses more
#: than this already): the loop's own stop, so that no setting can keep a point running.
MEASURE_LIMIT_S = 3600.0


def _capped(value: float, limit: float) -> float:
    """``value``, or ``limit`` when it is larger, infinite or NaN."""
    return value if value <= limit else limit  # NaN compares False


def _inner_loops(fn, min_sample_ns: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample_ns``: doubling, as
    ADBench does, until the measured block is long enough."""
    min_sample_ns = _capped(min_sample_ns, MEASURE_LIMIT_S * 1e9)
    inner = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= min_sample_ns:
            return inner
        # jump close to the target in one step, then keep doubling if still short
        inner = max(inner * 2, int(inner * min_sample_ns / max(elapsed, 1)))


def measure(fn, policy: Measure) -> Timing:
    """Time a warmed-up ``fn`` (call ``first_call`` before) under ``policy``."""
    inner = _inner_loops(fn, policy.min_sample_ms * 1e6)  # also the warm-up
    stop_s = _capped(policy.max_seconds, MEASURE_LIMIT_S)
    samples: list[float] = []
    start = time.perf_counter_ns()
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter_ns() - t0) * 1e-9 / inner)
        elapsed = (time.perf_counter_ns() - start) * 1e-9
        enough = len(samples) >= policy.min_samples and elapsed >= policy.min_seconds
        if enough or elapsed >= stop_s:
            break
    a = np.asarray(samples)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return Timing(float(a.min()), float(med), float(q3 - q1), len(samples), inner, tuple(samples))


# --- the one-time compile, recorded per machine --------------------------------------------

#: How a first use went: Numba compiled kernels, or loaded every one from its cache.
COMPILED, LOADED = "compiled", "loaded"


def compile_record_path() -> Path:
    """compile-<machine digest>.json beside the profile cache (``profile_dir()``)."""
    from ...machine.profile import cache_path

    profile = cache_path()
    return profile.with_name(profile.name.replace("profile-", "compile-", 1))


def recorded_compile_s() -> dict:
    """{engine: {'compiled': seconds, 'loaded': seconds}} measured before on this machine."""
    try:
        doc = json.loads(compile_record_path().read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def record_compile_s(engine: str, how: str, seconds: float) -> None:
    """Remember that ``engine``'s first use in a process took ``seconds`` (``how``: COMPILED
    or LOADED). A file that cannot be written only costs the next run its estimate."""
    doc = recorded_compile_s()
    doc.setdefault(engine, {})[how] = round(float(seconds), 3)
    path = compile_record_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def _dispatchers(module_prefix: str = "chainbench"):
    from numba.core.registry import CPUDispatcher

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == module_prefix and module is not None:
            for value in list(vars(module).values()):
                if isinstance(value, CPUDispatcher):
                    yield value


def jit_compiles() -> int:
    """How many times Numba compiled one of chainbench's kernels in this process (cache
    misses): unchanged across a first use means every kernel came from Numba's cache."""
    return sum(sum(d.stats.cache_misses.values()) for d in _dispatchers())


def kernels_cached(obj) -> bool | None:
    """Whether Numba's on-disk cache holds kernels of the module that defines ``obj`` (an
    engine's ``bind``), so its first use will load rather than compile; None when that
    module defines no kernel. A guess, for messages: an index left by edited source still counts."""
    import inspect

    from numba.core.registry import CPUDispatcher

    obj = getattr(obj, "func", obj)  # a functools.partial: the function it calls
    module = inspect.getmodule(obj)
    name = getattr(module, "__name__", None)
    kernels = [v for v in (vars(module).values() if module else ())
               if isinstance(v, CPUDispatcher) and getattr(v.py_func, "__module__", None) == name]
    if not kernels:
        return None
    short = name.rsplit(".", 1)[-1]
    return any(any(Path(d.stats.cache_path).glob(f"{short}.{d.py_func.__qualname__}-*.nbi"))
               for d in kernels)


# --- how long a point will take --------------------------------------------------------------


def expected_wall_s(call_s: float, policy: Measure) -> float:
    """About how long measuring a point whose Jacobian takes ``call_s`` lasts under
    ``policy``: J's sampling (``measure``: min_samples samples of at least min_sample_ms,
    no less than min_seconds, no more than max_seconds), the same for F (cheap: its floor),
    and a few single calls (the check, the counters, the memory peak)."""
    def sampling(t: float) -> float:
        sample = max(policy.min_sample_ms * 1e-3, t)
        return min(max(policy.min_samples * sample, policy.min_seconds), policy.max_seconds) \
            + sample  # the inner-loop calibration takes about one sample more

    return sampling(call_s) + sampling(0.0) + 6 * call_s
