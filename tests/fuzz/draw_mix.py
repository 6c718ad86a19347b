"""Inputs for the broken-pipe check (run twice: plainly and as ``… | head -1``), weighted to
commands that print many lines, and the census's mix of every generator."""

from __future__ import annotations

from .cases import Case
from .choose import Chooser
from .draw_cli import cli_case, list_argv, run_argv
from .draw_experiment import experiment_case
from .draw_results import profile_case, results_case


def piped_case(c: Chooser) -> Case:
    pick = c.pick(["list", "run", "run", "cli", "experiment", "experiment", "results"])
    if pick in ("list", "run"):
        return Case(tuple((list_argv if pick == "list" else run_argv)(c)))
    return {"cli": cli_case, "experiment": experiment_case, "results": results_case}[pick](c)


#: (generator, weight, piped) of the census (census.py).
MIX = [(cli_case, 45, False), (experiment_case, 20, False), (results_case, 20, False),
       (profile_case, 7, False), (piped_case, 8, True)]
