"""Independent memory measurement: the tracemalloc peak around one call. With Numba ≥ 0.68
tracemalloc sees arrays allocated inside jitted code as well as numpy's (a test checks it)."""

from __future__ import annotations

import tracemalloc


def peak_bytes(fn) -> int:
    """Peak bytes traced while ``fn()`` runs, above what was allocated before it."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - before)
