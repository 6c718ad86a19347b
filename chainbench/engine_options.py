"""An engine's options (snapshots, step, dense=False), checked against those it takes: what
``bind`` and the API pass on to an engine, besides its chunk."""

from __future__ import annotations

import numpy as np

from .engines.contract import Engine
from .engines.numerical import check_step
from .engines.registry import ENGINES


def engine_options(impl: Engine, snapshots=None, step=None, dense: bool = True) -> dict:
    """The options given, checked against those ``impl`` takes (``dense``: only False is
    an option, that of the sparse modes; True is every mode's default)."""
    if not isinstance(dense, bool):
        raise TypeError(f"dense must be True or False, got {dense!r}")
    given = (("snapshots", snapshots), ("step", step), ("dense", None if dense else False))
    options = {k: v for k, v in given if v is not None}
    for key in options:  # each engine names the options it takes
        if key not in impl.options:
            takers = [k for k, e in ENGINES.items() if key in e.options]
            raise ValueError(f"mode {impl.name!r} takes no {key}; leave {key}=None ({key} is "
                             f"for {', '.join(takers)})")
    if isinstance(options.get("snapshots"), np.integer):  # as chunk takes np.int64(2)
        options["snapshots"] = int(options["snapshots"])
    if "step" in options:
        options["step"] = _check_step(options["step"])
    return options


#: The largest relative step the numerical modes take: beyond it the quotient is a secant
#: across the function, not a derivative (and x + h may overflow).
MAX_STEP = 1.0


def _check_step(step) -> float:
    step = check_step(step)  # a positive finite number, or the engines' own error
    if step > MAX_STEP:
        raise ValueError(f"step must be in (0, {MAX_STEP:g}] (relative: h_j = step·max(1, "
                         f"|x_j|)), got {step!r}")
    return step
