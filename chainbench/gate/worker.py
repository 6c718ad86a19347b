"""One side of the gate's comparison: a process that imports chainbench from a given tree and
times calls of it on request, so the code under test and the reference run the same timing
code in the same job.

    python -P worker.py ROOT        # ROOT holds the chainbench/ package to time

It reads one JSON request per line on stdin and answers one JSON line on stdout:

    {"cmd": "setup", "cases": [{"name", "kind", "spec", "n", "mode", "chunk"}, ...]}
        (kind: 'jacobian', 'evaluate', or 'hessian' and 'hvp' where the tree has them)
        -> {"ok": true, "cases": {name: {"compile_s", "once_s", "check": {...}} or {"error"}}}
    {"cmd": "time", "case": name, "calls": k, "repeats": r}
        -> {"ok": true, "seconds": [wall seconds per call of each repeat],
            "cpu_seconds": [the same in this thread's CPU time]}

Only the public API that old and new trees share is used (``Chain.from_spec``, ``jacobian``,
calling a chain; ``hessian`` and ``hvp`` for the second-order cases, which a tree without
them reports as an error for that case alone), and nothing of ``chainbench.gate``: the
reference tree may predate it.

``CHAINBENCH_SLOW_ENGINE=MODE[:FACTOR]`` (the driver sets it for the code under test only)
makes every timed call of MODE (or of F, with MODE 'F') FACTOR× slower by busy-waiting
(FACTOR − 1) × the call's own time after it: a regression of known size for testing the gate.
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import os
import sys
import time

SLOW_ENV = "CHAINBENCH_SLOW_ENGINE"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: the pseudo-mode that names the plain evaluation F in CHAINBENCH_SLOW_ENGINE
F_MODE = "F"
DEFAULT_FACTOR = 2.0


class SlowFlagError(ValueError):
    """CHAINBENCH_SLOW_ENGINE is malformed."""


def parse_slow_flag(text: str, modes) -> tuple[str, float] | None:
    """(mode, factor) from ``MODE[:FACTOR]``, or None for an empty flag.

    ``modes`` are the engines it may name (besides 'F'; a strategy such as 'auto' runs one
    of them: slow that one); the factor is a float > 1."""
    if not text:
        return None
    mode, sep, factor_text = text.partition(":")
    known = [*modes, F_MODE]
    if mode not in known:
        raise SlowFlagError(f"{SLOW_ENV}={text!r}: unknown mode {mode!r}; "
                            f"choose one of {', '.join(known)}")
    try:
        factor = float(factor_text) if sep else DEFAULT_FACTOR
    except ValueError:
        raise SlowFlagError(f"{SLOW_ENV}={text!r}: factor {factor_text!r} is not a "
                            "number") from None
    if not factor > 1.0 or factor != factor or factor == float("inf"):
        raise SlowFlagError(f"{SLOW_ENV}={text!r}: factor must be a finite number > 1")
    return mode, factor


def _timed(call, calls: int, extra: float) -> tuple[float, float]:
    """(wall, CPU) seconds per call of ``calls`` back-to-back calls; after each, busy-wait
    ``extra`` × its own wall time (0: none). Every call is timed on its own in both workers
    alike, so the timer's cost is the same on both sides of the comparison. CPU time is
    this thread's: it leaves out the time other processes held the core."""
    clock = time.perf_counter_ns
    cpu0, start = time.thread_time_ns(), clock()
    for _ in range(calls):
        t0 = clock()
        call()
        t1 = clock()
        if extra:
            until = t1 + int(extra * (t1 - t0))
            while clock() < until:
                pass
    wall, cpu = clock() - start, time.thread_time_ns() - cpu0
    return wall * 1e-9 / calls, cpu * 1e-9 / calls


class Worker:
    """The chains and calls of one tree's chainbench, by case name."""

    def __init__(self, cb, slow: tuple[str, float] | None):
        self.cb, self.slow, self.calls = cb, slow, {}

    def _call(self, case: dict):
        import numpy as np

        n = int(case["n"])
        chain = self.cb.Chain.from_spec(case["spec"], n=n, seed=0)
        x = np.random.default_rng(1).standard_normal(n)
        if case["kind"] == "evaluate":
            return F_MODE, functools.partial(chain, x)
        if case["kind"] == "hessian":  # a tree without second order raises here: skipped
            return case["mode"], functools.partial(self.cb.hessian, chain, x, mode=case["mode"])
        if case["kind"] == "hvp":
            v = np.random.default_rng(2).standard_normal(n)
            return case["mode"], functools.partial(self.cb.hvp, chain, x, v, mode=case["mode"])
        if case["kind"] != "jacobian":
            raise ValueError(f"case {case['name']!r}: unknown kind {case['kind']!r}")
        return case["mode"], functools.partial(self.cb.jacobian, chain, x, mode=case["mode"],
                                               chunk=case.get("chunk"))

    def setup(self, cases: list[dict]) -> dict:
        """Build every case and call it once (the JIT compile); return per case the compile
        time, one warm call's time and a fingerprint of the result."""
        out = {}
        for case in cases:
            try:
                mode, call = self._call(case)
                t0 = time.perf_counter()
                result = call()
                compile_s = time.perf_counter() - t0
            except Exception as err:  # e.g. a mode the reference tree lacks: that case only
                out[case["name"]] = {"error": f"{type(err).__name__}: {err}"}
                continue
            self.calls[case["name"]] = (mode, call)
            once = min(_timed(call, 1, 0.0)[0] for _ in range(3))
            out[case["name"]] = {"compile_s": compile_s, "once_s": once,
                                 "check": fingerprint(result)}
        return {"cases": out}

    def time(self, name: str, calls: int, repeats: int) -> dict:
        mode, call = self.calls[name]
        extra = self.slow[1] - 1.0 if self.slow and self.slow[0] == mode else 0.0
        gc.disable()  # a collection inside one sample would only add noise
        try:
            timed = [_timed(call, int(calls), extra) for _ in range(int(repeats))]
        finally:
            gc.enable()
        return {"seconds": [w for w, _ in timed], "cpu_seconds": [c for _, c in timed]}


def fingerprint(result) -> dict:
    """What the driver compares between trees: shape, Frobenius norm, the sum of the result
    weighted by fixed random numbers (and those weights' norm), and 8 evenly spaced entries."""
    import numpy as np

    a = np.asarray(result, dtype=float)
    flat = a.ravel()
    weights = np.random.default_rng(7).standard_normal(flat.size)
    picks = np.linspace(0, flat.size - 1, min(8, flat.size)).astype(int)
    return {"shape": list(a.shape), "norm": float(np.linalg.norm(flat)),
            "weighted": float(flat @ weights), "weights_norm": float(np.linalg.norm(weights)),
            "sample": [float(v) for v in flat[picks]]}


def _import_chainbench(root: str):
    """chainbench from ``root`` (first on sys.path), with one thread everywhere."""
    for var in THREAD_VARS:  # before numpy and numba are imported
        os.environ[var] = "1"
    sys.path.insert(0, root)
    import chainbench as cb

    where = os.path.realpath(os.path.dirname(cb.__file__))
    if os.path.dirname(where) != os.path.realpath(root):
        raise RuntimeError(f"imported chainbench from {where}, not from {root}")
    import scipy.linalg.cython_blas  # noqa: F401  (numba's BLAS, loaded so the limit covers it)

    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # the environment variables above already asked for one thread
        pass
    return cb


def serve(worker: Worker, requests, answer) -> None:
    """Answer each request line until the input ends."""
    for line in requests:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if req["cmd"] == "setup":
                reply = worker.setup(req["cases"])
            elif req["cmd"] == "time":
                reply = worker.time(req["case"], req["calls"], req["repeats"])
            else:
                raise ValueError(f"unknown command {req['cmd']!r}")
            reply["ok"] = True
        except Exception as err:  # reported to the driver, which stops the gate
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        answer(json.dumps(reply))


def _engines(cb):
    """The engine names of the tree this worker imported: its registry where it has one (a
    reference commit from before the registry module lists its modes in ``cb.MODES``), and
    its second-order modes where it has them (``cb.HESSIAN_MODES``)."""
    try:
        first = list(importlib.import_module("chainbench.engines.registry").ENGINES)
    except ImportError:
        first = list(cb.MODES)
    try:
        return [*first, *cb.HESSIAN_MODES]
    except AttributeError:  # a tree from before second order
        return first


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -P worker.py ROOT", file=sys.stderr)
        return 2
    # the script's own folder must not shadow anything (python -P leaves it out already)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    protocol = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    cb = _import_chainbench(argv[1])
    try:
        slow = parse_slow_flag(os.environ.get(SLOW_ENV, ""), _engines(cb))
    except SlowFlagError as err:
        print(f"gate worker: {err}", file=sys.stderr)
        return 2

    def answer(text: str) -> None:
        protocol.write(text + "\n")
        protocol.flush()

    answer(json.dumps({"ok": True, "ready": True, "root": argv[1], "slow": slow}))
    serve(Worker(cb, slow), sys.stdin, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
