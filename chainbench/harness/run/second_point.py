"""Measure one second-order point (``experiment.second``): a Hessian or a Hessian-vector
product by one of chainbench's modes (``bind(chain, mode, order=2)``) or a peer
(``peers.second``), checked against chainbench's HVP by another mode before timing, then
timed as first order's points are (``timing.measure``), F beside it and, for an HVP, the
gradient of u·f too (chainbench's reverse-mode VJP; an operation-level mode's, op-reverse's
on the same tape where m = 1; or the peer's own gradient), so that HVP ÷ gradient is a
column; counters, prediction and memory into the same ``Row``."""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import numpy as np

from ...bound import bind, bind_value
from ...cost.second_order import HESSIAN_MODES as PRODUCT_MODES
from ...cost.second_order import OPERATION_LEVEL
from ...cost.second_order import predict_second
from ...errors import Unsupported
from ...machine.current import current_profile
from ...model.chain import Chain
from ...peers.second import HESSIAN, SECOND_PEERS
from ...second_order import hvp, predict_hessian, predict_hvp
from ..experiment.config import Measure, Point
from ..storage.row import Row
from .memory import peak_bytes
from .timing import first_call, measure


def predict_point(point: Point):
    """The ``SecondCounts`` the point's call should fill, its ``mode`` the one that runs
    ('auto' resolved; a peer's own name, predicted the work of the mode it mirrors)."""
    shape = point.shape
    peer = SECOND_PEERS.get(point.mode)
    mode = peer.cost_mode if peer else point.mode
    if point.quantity != HESSIAN:
        predicted = predict_hvp(shape, mode)
    elif peer:  # jacfwd of jacrev: all n lanes in one sweep
        predicted = predict_second(shape, mode, chunk=shape.n)
    else:
        predicted = predict_hessian(shape, mode)
    return dataclasses.replace(predicted, mode=point.mode) if peer else predicted


def measure_second(point: Point, policy: Measure) -> Row:
    """All measured figures of one second-order point as a row (its identity is the
    caller's), as ``point.measure_point`` for a Jacobian."""
    predicted = predict_point(point)
    start = time.perf_counter()
    row = Row(engine=predicted.mode, chunk=predicted.chunk or None)
    try:
        chain = Chain.from_spec(point.spec, point.n, seed=point.seed)
        return _measure(chain, point, predicted, policy, row).finish(start)
    except MemoryError as err:
        row.update(status="failed", reason=f"out of memory ({err or 'MemoryError'}); "
                   "the memory guard admitted it: see docs/experiments.md")
        return row.finish(start)


def _calls(chain: Chain, point: Point, x, v, u):
    """(the call to time, its result as numpy (a function), the gradient's call, the
    chainbench bound Hessian or None)."""
    peer = SECOND_PEERS.get(point.mode)
    if peer is not None:
        peer.prepare()  # its import is not its compile time
        call, to_numpy = peer.native(chain.program, x, v)
        grad, grad_numpy = peer.gradient(chain.program, x)
        return call, to_numpy, lambda: grad_numpy(grad()), None
    bound = bind(chain, point.mode, order=2)
    call = partial(bound, x) if point.quantity == HESSIAN else partial(bound.hvp, x, v)
    if point.mode in OPERATION_LEVEL and chain.m == 1:  # the gradient at the same level
        return call, np.asarray, partial(bind(chain, "op-reverse"), x), bound
    return call, np.asarray, partial(bind(chain, "reverse").vjp, x, u), bound


def _measure(chain: Chain, point: Point, predicted, policy: Measure, row: Row) -> Row:
    rng = np.random.default_rng(point.seed)
    x, v, u = rng.standard_normal(chain.n), rng.standard_normal(chain.n), np.ones(chain.m)
    try:  # a peer that is not installed or cannot express a layer: skipped
        build_s, (call, to_numpy, gradient, bound) = first_call(
            lambda: _calls(chain, point, x, v, u))
        call_s, out = first_call(call)
    except Unsupported as err:
        return row.update(status="skipped", reason=str(err))
    result = to_numpy(out)
    row.compile_s = build_s + call_s
    if policy.check:
        row.check_error = check_error(chain, x, v, result, predicted.mode, rng)
        if not row.check_error <= policy.check_tol:  # NaN fails too
            return row.update(status="failed", reason="check against chainbench's HVP "
                              f"failed: relative error {row.check_error:.2e} > "
                              f"{policy.check_tol:.0e}")
    stats = predicted if bound is None else _stats(bound, point, x, v)
    t = measure(call, policy)
    value = bind_value(chain)
    first_call(partial(value, x))
    tf = measure(partial(value, x), policy)
    row.update(status="ok", reason="", time_min_s=t.min, time_median_s=t.median,
               time_iqr_s=t.iqr, samples=t.samples, inner_loops=t.inner,
               f_time_s=tf.median, j_over_f=t.median / tf.median,
               time_predicted_s=_price(bound) if point.quantity == HESSIAN else None,
               **counted(predicted, None if bound is None else stats))
    if point.quantity != HESSIAN:
        first_call(gradient)
        tg = measure(gradient, policy)
        row.update(g_time_s=tg.median, hvp_over_g=t.median / tg.median)
    working = chain.program.params.nbytes + stats.bytes_held + result.nbytes
    return row.update(working_set_bytes=working, memory_level=current_profile().regime(working),
                      bytes_output=result.nbytes,
                      # tracemalloc does not see XLA's or libtorch's buffers: no figure then
                      bytes_measured=peak_bytes(call) if policy.memory and bound else "")


def _stats(bound, point: Point, x, v):
    if point.quantity == HESSIAN:
        return bound(x, return_stats=True)[1]
    return bound.hvp(x, v, return_stats=True)[1]


def _price(bound) -> float | None:
    """The time model's seconds for a bound Hessian, where the time model prices one."""
    price = getattr(bound, "price", None)
    return None if price is None else price().seconds


def counted(predicted, stats) -> dict:
    """A row's counter columns: predicted, and counted where chainbench ran (a peer counts
    nothing)."""
    out = dict(madds_predicted=predicted.madds, bytes_predicted=predicted.bytes_held)
    if stats is not None:
        out.update(madds_counted=stats.madds, madds_value=stats.madds_value,
                   madds_tangent=stats.madds_tangent, madds_adjoint=stats.madds_adjoint,
                   madds_accumulate=stats.madds_accumulate,
                   madds_curvature=stats.madds_curvature,
                   sweeps_forward=stats.sweeps_forward, sweeps_backward=stats.sweeps_backward,
                   bytes_counted=stats.bytes_held, bytes_tape=stats.bytes_tape,
                   bytes_work=stats.bytes_work, bytes_snapshots=stats.bytes_snapshots,
                   layer_steps=stats.layer_steps)
    return out


def check_error(chain: Chain, x, v, result, engine: str, rng) -> float:
    """Largest disagreement of ``result`` (H, or H v) with chainbench's HVP by another mode
    (along v, and for a Hessian along a second random direction too), relative to the
    size of the Hessian's entries."""
    other = next(m for m in PRODUCT_MODES if m != engine)
    if result.ndim == 1:
        pairs = [(result, hvp(chain, x, v, mode=other))]
    else:
        w = rng.standard_normal(chain.n)
        pairs = [(result @ d, hvp(chain, x, d, mode=other)) for d in (v, w)]
    scale = max(1.0, max(float(np.max(np.abs(ref))) for _, ref in pairs))
    return max(float(np.max(np.abs(got - ref))) for got, ref in pairs) / scale
