"""Timing with adaptive repetition: the first (compiling) call apart, a warm-up, then
samples of at least ``min_sample_ms`` each until enough samples and seconds are in."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .config import Measure


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


def _inner_loops(fn, min_sample_ns: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample_ns``: doubling, as
    ADBench does, until the measured block is long enough."""
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
    samples: list[float] = []
    start = time.perf_counter_ns()
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter_ns() - t0) * 1e-9 / inner)
        elapsed = (time.perf_counter_ns() - start) * 1e-9
        enough = len(samples) >= policy.min_samples and elapsed >= policy.min_seconds
        if enough or elapsed >= policy.max_seconds:
            break
    a = np.asarray(samples)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return Timing(float(a.min()), float(med), float(q3 - q1), len(samples), inner, tuple(samples))
