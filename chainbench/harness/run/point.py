"""Measure one point: build the chain, check its Jacobian by a second method, time the
first call apart, then the Jacobian and F with adaptive repetition, then memory, into a
``Row``; and warm a kind of point up (``warm_up``): the one-time JIT compile, timed apart
from every point."""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import numpy as np
import scipy.sparse as sp

from ... import api, strategies
from ...api import jvp, vjp
from ...bound import bind, bind_value
from ...cost.predictions import slides_formula
from ...engines.registry import ENGINES
from ...errors import TooLarge, Unsupported
from ...machine.current import current_profile
from ...model.chain import Chain
from ..experiment.config import Measure, Point
from ..experiment.second import is_second
from ..storage.row import Row
from .guards import plan_reason
from .memory import peak_bytes
from .second_point import measure_second, predict_point
from .timing import first_call, measure


def resolve(point: Point) -> tuple[str, int | None, int | None]:
    """(engine, chunk, snapshots) a point runs with: its mode resolved once (a strategy
    such as 'auto' to its pick, at its chunk, as a user's jacobian(mode='auto') runs),
    chunk given as 'default', 'n' (all lanes) or an integer (clamped to the lanes there
    are: n, or a sparse mode's colors), snapshots as 'default' (None) or an integer. TooLarge
    (before anything proportional to n is made) for a point this process cannot hold."""
    if reason := plan_reason(point, sparse_output=True):  # before auto or a sparse mode colors J
        raise TooLarge(reason)
    if is_second(point):
        predicted = predict_point(point)
        return predicted.mode, predicted.chunk or None, None
    shape = point.shape
    impl, chunk = strategies.resolve(shape, point.mode)
    if impl.lanes == "n" and point.chunk != "default":
        lanes = impl.lane_count(shape)
        chunk = lanes if point.chunk == "n" else min(int(point.chunk), lanes)
    snapshots = None if point.snapshots == "default" else int(point.snapshots)
    return impl.name, chunk, snapshots


def predict(point: Point):
    """What the cost model predicts for ``point`` (a ``Prediction``, or a ``SecondCounts``
    at order 2), its mode resolved as ``resolve`` does; TooLarge as ``resolve``."""
    engine, chunk, snapshots = resolve(point)
    return predict_point(point) if is_second(point) else \
        api.predict(point.shape, engine, chunk, snapshots)


def probe_error(chain: Chain, x: np.ndarray, J: np.ndarray, rng: np.random.Generator) -> float:
    """Largest disagreement of J with a forward JVP (J v) and a reverse VJP (uᵀ J) along
    random directions, relative to the size of the Jacobian: a second method that costs one
    sweep each, where recomputing J the other way could cost more than the point itself."""
    v, u = rng.standard_normal(chain.n), rng.standard_normal(chain.m)
    _, Jv = jvp(chain, x, v)
    _, uJ = vjp(chain, x, u)
    largest = float(abs(J).max()) if sp.issparse(J) else float(np.max(np.abs(J)))
    scale = max(1.0, largest * max(chain.n, chain.m))
    return float(max(np.max(np.abs(J @ v - Jv)), np.max(np.abs(u @ J - uJ))) / scale)


def measure_point(point: Point, policy: Measure) -> Row:
    """All measured figures of one grid point as a row (status 'ok' or 'failed'; its
    identity is the caller's: ``Row.identify``); a point that runs out of memory is
    'failed' with that reason, and the sweep goes on."""
    if is_second(point):  # a Hessian or an HVP
        return measure_second(point, policy)
    engine, chunk, snapshots = resolve(point)
    start = time.perf_counter()
    try:
        chain = Chain.from_spec(point.spec, point.n, seed=point.seed)
        return measure_chain(chain, engine, chunk, policy, seed=point.seed, snapshots=snapshots)
    except MemoryError as err:
        row = Row(engine=engine, chunk=chunk,
                  status="failed", reason=f"out of memory ({err or 'MemoryError'}); "
                  "the memory guard admitted it: see docs/experiments.md")
        return row.finish(start)


def measure_chain(chain: Chain, engine: str, chunk: int | None, policy: Measure, seed: int = 0,
                  snapshots: int | None = None) -> Row:
    """Check, then time the Jacobian of ``chain`` by ``engine`` with ``chunk`` lanes (and
    ``snapshots`` for checkpointed modes) at a seeded random x; F, counters, predictions
    and memory beside it: the measured columns of a row. The engine is bound once
    (``bound.bind``); the timed call, the counters, the prediction and the price are the
    bound Jacobian's."""
    start = time.perf_counter()
    impl = ENGINES[engine]
    row = Row(engine=engine, chunk=chunk,
              snapshots=impl.snapshots(chain.program, snapshots) if impl.snapshots else "")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(chain.n)
    # the sparse modes return J as scipy.sparse when the experiment asks (Measure.sparse_output)
    dense = not (policy.sparse_output and "dense" in impl.options)
    try:  # a peer that is not installed, a layer the complex step cannot take: skipped
        if impl.prepare is not None:
            impl.prepare()  # a peer's import is not its compile time
        bound = bind(chain, engine, chunk, snapshots=snapshots, dense=dense)
        fn = partial(bound, x)  # the call a user makes, as F's below
        row.compile_s, J, timed = first_use(impl, chain, x, fn)
    except Unsupported as err:
        row.update(status="skipped", reason=str(err))
        return row.finish(start)
    if policy.check:
        tol = max(policy.check_tol, impl.check_tol)  # numerical: looser
        row.check_error = probe_error(chain, x, J, rng)
        if not row.check_error <= tol:  # NaN fails too
            row.update(status="failed", reason=f"Jacobian check failed: relative error "
                       f"{row.check_error:.2e} > {tol:.0e}")
            return row.finish(start)
    _, stats = bound(x, return_stats=True)
    t = measure(timed, policy)
    if timed is not fn:  # a peer: its numpy-in, numpy-out call too (warmed by the stats call)
        row.time_numpy_s = measure(fn, policy).median
    value = bind_value(chain)
    first_call(partial(value, x))
    tf = measure(partial(value, x), policy)
    row.update(status="ok", reason="", **_timings(t, tf),
               time_predicted_s=bound.price().seconds,
               **_counted(bound.predict(), stats, chain.widths, impl.algorithm))
    row.update(
        working_set_bytes=(working := chain.program.params.nbytes + stats.bytes_held
                           + output_bytes(J)),
        memory_level=current_profile().regime(working),  # measured levels, not sysfs
        bytes_output=output_bytes(J),
        # tracemalloc does not see XLA's or libtorch's buffers: no figure rather than a wrong one
        bytes_measured=peak_bytes(fn) if policy.memory and impl.memory_visible else "",
    )
    return row.finish(start)


def _timings(t, tf) -> dict:
    """A row's columns of the Jacobian's timing ``t`` and F's ``tf``."""
    return dict(time_min_s=t.min, time_median_s=t.median, time_iqr_s=t.iqr, samples=t.samples,
                inner_loops=t.inner, f_time_s=tf.median, j_over_f=t.median / tf.median)


def _counted(predicted, stats, widths, algorithm) -> dict:
    """A row's columns of counters: predicted, counted, and the slides' formula."""
    slides = slides_formula(widths)
    return dict(
        madds_predicted=predicted.madds, madds_counted=stats.madds,
        madds_value=stats.madds_value, madds_tangent=stats.madds_tangent,
        madds_adjoint=stats.madds_adjoint,
        madds_slides={"forward": slides[0], "reverse": slides[1]}.get(algorithm, ""),
        sweeps_forward=stats.sweeps_forward, sweeps_backward=stats.sweeps_backward,
        bytes_predicted=predicted.bytes_held, bytes_counted=stats.bytes_held,
        bytes_tape=stats.bytes_tape, bytes_work=stats.bytes_work,
        bytes_snapshots=stats.bytes_snapshots, layer_steps=stats.layer_steps,
        madds_accumulate=stats.madds_accumulate)


def output_bytes(J) -> int:
    """Bytes of a Jacobian as returned: a dense array's, or a CSR array's values and index."""
    if sp.issparse(J):
        return J.data.nbytes + J.indices.nbytes + J.indptr.nbytes
    return J.nbytes


def first_use(impl, chain: Chain, x: np.ndarray, fn) -> tuple[float, np.ndarray, object]:
    """(compile_s, J, the call to time): ``fn``'s first call and ``fn`` itself, or for a
    peer (``Engine.native``) its own call, whose building and first call (JAX's trace and
    XLA compile, torch.compile's) make its compile_s and whose result, converted, is J."""
    if impl.native is None:
        compile_s, J = first_call(fn)
        return compile_s, J, fn
    build_s, (call, to_numpy) = first_call(lambda: impl.native(chain.program, x))
    call_s, out = first_call(call)
    return build_s + call_s, to_numpy(out), call


def warmup_point(point: Point) -> Point:
    """A tiny point (n = 2, two hidden layers of 2) of the same kind (``Point.kind``: mode,
    chunk, snapshots and activation) as ``point``: measuring it compiles (or loads from
    Numba's cache) every kernel ``point`` calls, and takes milliseconds once they are
    compiled."""
    return Point(n=2, m=1, depth=2, width="square", widths=(2, 2, 2, 1),
                 activation=point.activation, seed=0, mode=point.mode, chunk=point.chunk,
                 snapshots=point.snapshots, quantity=point.quantity)


def warmup_points(points: list[Point]) -> list[Point]:
    """One warm-up point per kind of ``points``, in the order the kinds first appear."""
    kinds = {p.kind: p for p in points}
    return [warmup_point(p) for p in kinds.values()]


def warmup_policy(policy: Measure) -> Measure:
    """``policy`` cut to one brief sample: a warm-up point is measured to be compiled, and
    its figures are discarded."""
    return dataclasses.replace(policy, min_sample_ms=0.1, min_samples=1, min_seconds=1e-3,
                               max_seconds=1e-2)


def warm_up(point: Point, policy: Measure) -> float:
    """Measure ``warmup_point(point)`` briefly and discard it; returns its seconds: the
    one-time JIT compile (or cache load) of what ``point`` runs, a peer's import included."""
    start = time.perf_counter()
    measure_point(warmup_point(point), warmup_policy(policy))
    return time.perf_counter() - start
