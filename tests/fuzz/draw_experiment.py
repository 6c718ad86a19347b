"""Experiment files: the shape of chainbench/experiments/quick.toml with a tiny grid and a
short measuring policy (so a valid one runs in about a second), one to three of its fields
mutated to a hostile value, run with ``chainbench run``."""

from __future__ import annotations

import json
import math

from . import values as v
from .cases import Case, Write
from .choose import Chooser


class Raw(str):
    """TOML text written as is (a syntax error, a datetime)."""


def skeleton() -> dict:
    return {
        "name": "fz", "description": "drawn by the fuzzing suite",
        "grid": {"n": [4, 8], "m": [1], "depth": [1], "modes": ["forward", "reverse"]},
        "measure": {"min_sample_ms": 0.5, "min_samples": 2, "min_seconds": 0.001,
                    "max_seconds": 0.02, "budget_s": 2},
    }


FLOATS = [math.nan, math.inf, -math.inf, -1.0, 0.0, 1e308, 1e-300, -0.0]
INTS = [-1, 0, 2**63 - 1, 3037000500, 10**6]
WRONG_TYPES = ["abc", True, [], [[1]], {"a": 1}, Raw("2000-01-01T00:00:00"), ""]
MODES = ["forward", "reverse", "auto", "optimal", "optimal-madds", "sqrt-checkpoint", "revolve",
         "sparse-forward", "sparse-reverse", "op-reverse", "op-forward", "fd-forward",
         "fd-central", "complex-step", "jax-jacfwd", "autograd", "nonsense", ""]
GRID_VALUES = {
    "n": [[1], [3037000500], [10**6], [0], [-4], list(range(1, 301)), ["n"], [4.5], [math.nan]],
    "m": [["n"], [2], [0], [10**6], [-1], list(range(1, 301))],
    "depth": [[0], [2], [10**6], list(range(1, 301)), [-1]],
    "width": [["square"], ["hourglass"], [3], [0], [[4, 4]], [["x"]], [10**9]],
    "activation": [["none"], ["softmax"], ["relu"], ["dense"], ["nope"]],
    "seed": [[-1], [2**63 - 1], [1.5]],
    "modes": [[m] for m in MODES] + [[], MODES[:6]],
    "chunk": [["default"], ["n"], [1], [0], [-1], [10**9], [math.nan]],
    "snapshots": [["default"], [1], [0], [-2], [10**9]],
    "layers": [["conv:3 tanh conv:3"], ["grouped:{n}:{n/2} tanh"], ["{n/0}"], ["dense:{n}"],
               [""], ["grouped:1000000:2"], ["{x}"]],
}
MEASURE_KEYS = ["min_sample_ms", "min_samples", "min_seconds", "max_seconds", "budget_s",
                "memory", "check", "check_tol", "sparse_output"]


def mutate(c: Chooser, doc: dict) -> None:
    """One hostile change to ``doc``."""
    where = c.pick(["grid", "grid", "measure", "measure", "top", "shape"])
    grid = doc.setdefault("grid", {})
    grid = grid[0] if isinstance(grid, list) else grid  # two_grids made it a list
    if where == "grid":
        key = c.pick(sorted(GRID_VALUES))
        pool = GRID_VALUES[key] + [[x] for x in WRONG_TYPES] + WRONG_TYPES
        grid[key] = c.pick(pool)
    elif where == "measure":
        key = c.pick(MEASURE_KEYS)
        doc.setdefault("measure", {})[key] = c.pick(FLOATS + INTS + WRONG_TYPES)
    elif where == "top":
        key = c.pick(["name", "description"])
        doc[key] = c.pick([v.path(c), "quick", "tiny", "x" * 300, 5, [], ""])
    else:
        change = c.pick(["unknown_key", "no_grid", "no_measure", "two_grids", "syntax",
                         "sparse_huge", "big_point", "big_point"])
        if change == "unknown_key":
            (doc.setdefault("measure", {}) if c.chance(0.5) else grid)["bogus"] = 1
        elif change in ("no_grid", "no_measure"):
            doc.pop(change.removeprefix("no_"), None)
        elif change == "two_grids":
            doc["grid"] = [grid, dict(grid, n=[2])]
        elif change == "syntax":
            grid["n"] = Raw("[1, ")
        elif change == "sparse_huge":  # issue 23: coloring n = 3037000500 before any guard
            grid.update(n=[3037000500], modes=[c.pick(["sparse-forward", "auto"])])
        else:  # tens of seconds a call: only the budget (2 s, or a hostile one) stands between
            grid.update(n=[4096], depth=[4], modes=["forward"])


def toml(doc: dict) -> str:
    """``doc`` as TOML: top-level scalars, then a table per dict (an array of tables per list
    of dicts)."""
    lines = [f"{k} = {_value(x)}" for k, x in doc.items() if not _is_table(x)]
    for key, table in doc.items():
        for one in (table if isinstance(table, list) else [table]) if _is_table(table) else []:
            lines.append(f"[[{key}]]" if isinstance(table, list) else f"[{key}]")
            lines += [f"{k} = {_value(x)}" for k, x in one.items()]
    return "\n".join(lines) + "\n"


def _is_table(x) -> bool:
    return isinstance(x, dict) or (isinstance(x, list) and x and
                                   all(isinstance(t, dict) for t in x))


def _value(x) -> str:
    if isinstance(x, Raw):
        return str(x)
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) \
            else repr(x)
    if isinstance(x, (int, str)):
        return str(x) if isinstance(x, int) else json.dumps(x)
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k} = {_value(y)}" for k, y in x.items()) + "}"
    return "[" + ", ".join(_value(y) for y in x) + "]"


def experiment_case(c: Chooser) -> Case:
    doc = skeleton()
    for _ in range(c.integer(0 if c.chance(0.1) else 1, 3)):
        mutate(c, doc)
    grids = doc.get("grid") if isinstance(doc.get("grid"), list) else [doc.get("grid")]
    if "measure" not in doc and any(isinstance(g, dict) and g.get("n") == [4096] for g in grids):
        doc["measure"] = skeleton()["measure"]  # the default budget (30 s) would let it run
    argv = ["run", "exp.toml", "--quiet"]
    if c.chance(0.5):
        argv += ["--out", c.pick(["out", "out", "results/tiny", "quick", v.path(c)])]
    argv += [flag for flag in ("--resume", "--fit") if c.chance(0.1)]
    return Case(tuple(argv), (Write("exp.toml", toml(doc)),))
