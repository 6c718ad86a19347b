"""One chain, every mode: measured time, J/F, predicted and counted multiply-adds and
bytes side by side, the fastest marked — the quick answer to "which mode for my shapes?"."""

from __future__ import annotations

import dataclasses

import pandas as pd

from ... import api
from ...engines.registry import ENGINES
from ...model.chain import Chain, ChainShape
from ...provenance import available_memory
from ..experiment.config import ConfigError, Measure
from ..run.guards import MEMORY_SHARE
from ..run.memory import planned_bytes
from ..run.point import measure_chain
from ..storage.row import Row
from .budgets import COMPARE_S

#: Timing for an interactive answer: a few tenths of a second per mode.
QUICK = Measure(min_sample_ms=5, min_samples=3, min_seconds=0.1, max_seconds=1.0)


def build(spec: str, n: int, seed: int = 0) -> Chain:
    """The chain of ``spec``, refused (ConfigError) when it is malformed or when measuring
    it could not fit in the memory this process may still use."""
    try:
        shape = ChainShape.from_spec(spec, n)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    need = max(planned_bytes(shape, api.predict(shape, mode).bytes_held, shape.m)
               for mode in ("forward", "reverse"))
    room = available_memory()
    if room is not None and need > room:
        raise ConfigError(f"{spec!r} at n={n}: measuring it needs about {need / 2**30:.3g} GiB "
                          f"and {room / 2**30:.3g} GiB are available; choose smaller widths")
    return Chain.from_spec(spec, n, seed=seed)


def compare(chain: Chain, policy: Measure = QUICK, seed: int = 0, budget_s: float = COMPARE_S,
            announce=None) -> pd.DataFrame:
    """A row per engine (default chunk) and one for 'auto' where its chunk is not the
    default, auto's pick and the fastest marked. A mode the time model predicts slower than
    ``budget_s`` per call, or needing more than ``MEMORY_SHARE`` of the memory available,
    is skipped with the reason, as a sweep's guards skip a point. ``announce(message)``
    hears of each mode as its measuring starts."""
    rows = []
    picked = api.auto_choice(chain)
    runs = [(engine, api.default_chunk(chain, engine)) for engine in ENGINES]
    if picked not in runs:
        runs.append(picked)
    room = available_memory()
    for k, (engine, chunk) in enumerate(runs, 1):
        label = engine if chunk is None else f"{engine} chunk {chunk}"
        why = _skip_reason(chain, engine, chunk, budget_s, room)
        if announce is not None:
            announce(f"[{k}/{len(runs)}] {label}: " + (f"skipped, {why}" if why else
                                                       "measuring"))
        if why:
            row = Row(engine=engine, chunk=chunk).update(status="skipped", reason=why)
        else:
            row = measure_chain(chain, engine, chunk, policy, seed=seed)
        rows.append({**dataclasses.asdict(row), "mode": engine, "auto_pick": (engine, chunk)
                     == picked})
    df = pd.DataFrame(rows)
    ok = df["status"] == "ok"
    df["fastest"] = False
    if ok.any():
        df.loc[df.loc[ok, "time_median_s"].idxmin(), "fastest"] = True
    return df


def _skip_reason(chain: Chain, engine: str, chunk, budget_s: float, room) -> str | None:
    """Why not to measure this mode here: over the time budget or the memory, else None."""
    seconds = api.predict_time(chain, engine, chunk).seconds
    if seconds > budget_s:
        return f"predicted {seconds:.3g} s per call > budget {budget_s:g} s (--budget)"
    need = planned_bytes(chain.shape, api.predict(chain, engine, chunk).bytes_held, chain.m)
    if room is not None and need > MEMORY_SHARE * room:
        return (f"needs about {need / 2**30:.3g} GiB, more than {MEMORY_SHARE:.0%} of the "
                f"{room / 2**30:.3g} GiB available")
    return None
