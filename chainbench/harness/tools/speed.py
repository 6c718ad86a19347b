"""Speed of the engines against hand-written numpy on the standard chain, measured as
ratios in one run, plus cold compile time and warm import time in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np

from ...api import jacobian
from ..experiment.config import Measure
from ..run.timing import measure
from .handwritten import numpy_forward, numpy_reverse, standard_chain

#: (n, m, mode) of the targets named in the core issue.
CASES = ((32, 1, "reverse"), (1024, 1, "reverse"), (512, 512, "reverse"), (512, 512, "forward"))
POLICY = Measure(min_sample_ms=20, min_samples=5, min_seconds=0.3, max_seconds=3)
ROUNDS = 3  # engine, numpy, engine, numpy, ...: medians over all rounds' samples


def engine_vs_numpy(cases=CASES, policy: Measure = POLICY) -> list[dict]:
    rows = []
    for n, m, mode in cases:
        chain = standard_chain(n, m)
        x = np.random.default_rng(0).standard_normal(n)
        ref = numpy_reverse if mode == "reverse" else numpy_forward
        J = jacobian(chain, x, mode)
        if not np.allclose(J, ref(chain, x), rtol=1e-9, atol=1e-12):
            raise AssertionError(f"n={n} m={m} {mode}: engine and numpy disagree")
        # alternate engine and numpy in rounds so drifting machine load hits both alike
        engine_samples, numpy_samples = [], []
        for _ in range(ROUNDS):
            engine_samples += measure(partial(jacobian, chain, x, mode), policy).raw
            numpy_samples += measure(partial(ref, chain, x), policy).raw
        t_cb, t_np = float(np.median(engine_samples)), float(np.median(numpy_samples))
        rows.append({"n": n, "m": m, "mode": mode, "chainbench_s": t_cb, "numpy_s": t_np,
                     "ratio": t_cb / t_np})
    return rows


_FIRST_CALL = (
    "import time, numpy as np; t0 = time.perf_counter(); import chainbench as cb; "
    "t1 = time.perf_counter(); c = cb.Chain.from_spec('dense:8 tanh dense:1', n=8); "
    "x = np.ones(8); t2 = time.perf_counter(); cb.jacobian(c, x, 'forward'); "
    "cb.jacobian(c, x, 'reverse'); c(x); t3 = time.perf_counter(); "
    "print(t1 - t0, t3 - t2)"
)


def _fresh_process(cache_dir: str) -> tuple[float, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    imp, first = map(float, out.stdout.split())
    return imp, first


def startup() -> dict:
    """Import time and first-call time (forward, reverse and F) with an empty JIT cache
    (cold: everything compiles) and then with the cache that run filled (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        cold_import, cold_first = _fresh_process(cache)
        cold_total = time.perf_counter() - t0
        warm_import, warm_first = _fresh_process(cache)
    return {"cold_import_s": cold_import, "cold_first_calls_s": cold_first,
            "cold_process_s": cold_total, "warm_import_s": warm_import,
            "warm_first_calls_s": warm_first}


def report(startup_too: bool = True) -> None:
    """Print the core speed figures (one thread): `chainbench speed`."""
    from ..run.threads import set_threads

    set_threads(1)
    print(f"{'n':>5s} {'m':>5s} {'mode':8s} {'chainbench':>12s} {'numpy':>12s} {'ratio':>7s}")
    for r in engine_vs_numpy():
        print(f"{r['n']:5d} {r['m']:5d} {r['mode']:8s} {r['chainbench_s'] * 1e6:10.1f}µs "
              f"{r['numpy_s'] * 1e6:10.1f}µs {r['ratio']:7.2f}")
    if not startup_too:
        return
    for key, value in startup().items():
        print(f"{key:20s} {value:8.3f} s")
