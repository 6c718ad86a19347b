"""Memory of a point: the independent measurement (the tracemalloc peak around one call;
with Numba ≥ 0.68 tracemalloc sees arrays allocated inside jitted code as well as numpy's,
a test checks it), and the plan the sweep's memory guard admits points by."""

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


def parameter_bytes(shape) -> tuple[int, int]:
    """(all, the largest layer's) bytes of a chain's parameters, from its shape alone: a
    dense layer holds W and b (and Wᵀ beside them when small, see layers.dense)."""
    sizes = [8 * cls.parameters(shape.widths[k], shape.widths[k + 1])
             for k, cls in enumerate(shape.layers)]
    return sum(sizes), max(sizes, default=0)


def planned_bytes(shape, bytes_held: int, m: int, output_bytes: int | None = None) -> int:
    """Bytes measuring one point holds at its peak, beyond what the process held before it:
    the parameters twice (the layers' arrays and the program's flat copy of them), the
    largest layer twice more (the temporaries of drawing it and of copying it into that
    buffer), and the engine's buffers with J twice (the Jacobian kept for the check, and the
    one each timed call makes). Held to the peak RSS measured in fresh processes by
    tests/test_memory_guard.py (within 1.3× of it at n = 1500…8000)."""
    params, largest = parameter_bytes(shape)
    output = 8 * m * shape.n if output_bytes is None else output_bytes  # J (dense, or its CSR)
    return 2 * params + 2 * largest + 2 * (bytes_held + output)
