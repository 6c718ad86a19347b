"""The measuring planner: ``bind(..., planner="measure")`` is to the time model's choice what
FFTW_MEASURE is to FFTW_ESTIMATE. It times the few candidates a strategy predicts fastest
(and its safe default) briefly on the chain itself, runs the one that measured fastest
(the safe default unless another beat it by more than timing noise), and
keeps it per machine and chain shape (``machine.wisdom``), so the next bind of that shape
on this machine plans at no cost. What planning cost is reported (``Planned.planning_s``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .machine import wisdom
from .machine.current import current_profile
from .machine.pass_kernels import best_seconds
from .model.layers.base import Kind
from .strategies import auto_decision, auto_ranked, is_strategy

#: 'estimate': the time model chooses (the default); 'measure': timed candidates choose.
PLANNERS = ("estimate", "measure")
#: How many of the best-predicted candidates are timed (the safe default besides).
TOP = 3
#: Each candidate is timed for about this long in all, best of SAMPLES.
TRIAL_S = 0.03
SAMPLES = 3
#: A candidate replaces the safe default (the faster pure mode at its default chunk) only
#: when measured faster by more than this (ln): run-to-run noise of brief timings.
NOISE = 0.05


@dataclass(frozen=True)
class Planned:
    """What the measuring planner chose: ``mode`` and ``chunk``, its measured ``seconds``,
    the seconds planning took (0 when recalled), whether it was ``recalled`` from wisdom,
    and every candidate ``timed`` as (mode, chunk, seconds)."""

    mode: str
    chunk: int | None
    seconds: float
    planning_s: float
    recalled: bool
    timed: tuple[tuple[str, int | None, float], ...] = ()

    def describe(self) -> str:
        if self.recalled:
            return (f"planner 'measure': {self.mode} at chunk {self.chunk}, recalled from this "
                    f"machine's wisdom ({self.seconds * 1e3:.3g} ms when measured)")
        tried = ", ".join(f"{m} c={c} {s * 1e3:.3g} ms" for m, c, s in self.timed)
        return (f"planner 'measure': timed {len(self.timed)} candidates in "
                f"{self.planning_s:.2g} s ({tried}); runs {self.mode} at chunk {self.chunk}")


def check_planner(planner) -> str:
    """``planner`` if it is one of PLANNERS, else a ValueError saying which there are."""
    if not isinstance(planner, str) or planner not in PLANNERS:
        raise ValueError(f"planner must be one of {', '.join(map(repr, PLANNERS))}, "
                         f"got {planner!r}")
    return planner


def entry(shape, mode: str) -> str:
    """The wisdom key of a strategy on a chain shape: the mode, n, and each layer with its
    output width (a layer with a structural argument by its kind, as conv[5])."""
    layers = " ".join(f"{repr(k) if isinstance(k, Kind) else k.name}:{w}"
                      for k, w in zip(shape.layers, shape.widths[1:]))
    return f"{mode} n={shape.n} {layers}"


def measured_pick(chain, mode: str, bind: Callable, profile=None) -> Planned:
    """The candidate of strategy ``mode`` that measures fastest on ``chain`` (``bind(name,
    chunk)`` gives a bound call of a concrete engine), recalled from wisdom when this
    machine has measured that shape before."""
    if not is_strategy(mode):
        raise ValueError(f"the measuring planner chooses for a strategy; {mode!r} is an engine")
    profile = profile or current_profile()
    key = entry(chain.shape, mode)
    known = wisdom.recall(profile.key, key)
    if known is not None:
        return Planned(known["mode"], known["chunk"], known["seconds"], 0.0, True)
    start = time.perf_counter()
    safe = auto_decision(chain, profile).safe.value
    picks = list(dict.fromkeys([safe, *[c.value for c in auto_ranked(chain, profile)][:TOP]]))
    x = 0.5 * np.random.default_rng(0).standard_normal(chain.n)
    timed = tuple((name, chunk, best_seconds(partial(bind(name, chunk), x), TRIAL_S, SAMPLES))
                  for name, chunk in picks)
    name, chunk, seconds = min(timed, key=lambda t: t[2])
    if seconds * math.exp(NOISE) >= timed[0][2]:  # not clearly faster than the safe default
        name, chunk, seconds = timed[0]
    wisdom.remember(profile.key, key, {"mode": name, "chunk": chunk, "seconds": seconds})
    return Planned(name, chunk, seconds, time.perf_counter() - start, False, timed)
