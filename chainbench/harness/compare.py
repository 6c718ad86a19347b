"""One chain, every mode: measured time, J/F, predicted and counted multiply-adds and
bytes side by side, the fastest marked — the quick answer to "which mode for my shapes?"."""

from __future__ import annotations

import dataclasses

import pandas as pd

from .. import api
from ..engines.registry import ENGINES
from ..model.chain import Chain, ChainShape
from ..provenance import available_memory
from .config import ConfigError, Measure
from .memory import planned_bytes
from .point import measure_chain

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


def compare(chain: Chain, policy: Measure = QUICK, seed: int = 0) -> pd.DataFrame:
    """A row per engine (default chunk) and one for 'auto' where its chunk is not the
    default, auto's pick and the fastest marked."""
    rows = []
    picked = api.auto_choice(chain)
    runs = [(engine, api.default_chunk(chain, engine)) for engine in ENGINES]
    if picked not in runs:
        runs.append(picked)
    for engine, chunk in runs:
        row = measure_chain(chain, engine, chunk, policy, seed=seed)
        rows.append({**dataclasses.asdict(row), "mode": engine, "auto_pick": (engine, chunk)
                     == picked})
    df = pd.DataFrame(rows)
    ok = df["status"] == "ok"
    df["fastest"] = False
    if ok.any():
        df.loc[df.loc[ok, "time_median_s"].idxmin(), "fastest"] = True
    return df
