"""Command lines for every quick subcommand (gate, calibrate, speed and Dask are left out:
each takes minutes by design), flags valid and hostile mixed, now and then a flag that does
not exist or one given twice."""

from __future__ import annotations

from . import values as v
from .cases import Case
from .choose import Chooser


def _maybe(c: Chooser, p: float, *words: str) -> list[str]:
    return list(words) if c.chance(p) else []


def list_argv(c: Chooser) -> list[str]:
    return ["list"] + _maybe(c, 0.8, c.pick(["experiments", "layers", "modes", "bogus", ""]))


def fit_argv(c: Chooser) -> list[str]:
    return ["fit", v.results_dir(c)]


def plot_argv(c: Chooser) -> list[str]:
    argv = ["plot", v.results_dir(c)] + _maybe(c, 0.3, "--why")  # --out: a folder of figures
    argv += _maybe(c, 0.3, "--format", c.pick(["png", "svg", "pdf", "jpg", ""]))
    return argv + _maybe(c, 0.4, "--out", v.path(c))


def report_argv(c: Chooser) -> list[str]:
    folders = [v.results_dir(c) for _ in range(c.integer(1, 3))]
    out = v.out_path(c) + c.pick(["", ".html"])
    return ["report", *folders] + _maybe(c, 0.4, "--out", out)


def _chain(c: Chooser, command: str) -> list[str]:
    return [command, v.spec(c), "--n", v.integer(c)]


def compare_argv(c: Chooser) -> list[str]:
    argv = _chain(c, "compare")
    argv += _maybe(c, 0.3, "--seed", v.integer(c))
    return argv + _maybe(c, 0.3, "--threads", c.pick(["1", "2", "64", "0", "-1", v.HUGE]))


def predict_argv(c: Chooser) -> list[str]:
    return _chain(c, "predict") + _maybe(c, 0.4, "--m", v.integer(c))


def plan_argv(c: Chooser) -> list[str]:
    return _chain(c, "plan")


def sparsity_argv(c: Chooser) -> list[str]:
    return _chain(c, "sparsity")


def accuracy_argv(c: Chooser) -> list[str]:
    argv = ["accuracy"] + _maybe(c, 0.7, v.spec(c))
    argv += _maybe(c, 0.6, "--n", v.integer(c))
    argv += _maybe(c, 0.2, "--seed", v.integer(c))
    argv += _maybe(c, 0.6, "--out", v.out_path(c))
    return argv + _maybe(c, 0.2, "--format", c.pick(["png", "svg", "pdf", "gif"]))


def run_argv(c: Chooser) -> list[str]:
    """``run`` of the tiny experiment (an experiment file of the sandbox), its flags drawn;
    experiment files themselves are draw_experiment's."""
    argv = ["run", c.pick(["tiny.toml", "tiny.toml", "afile", "nonexistent.toml", "empty", ""]),
            "--quiet"]
    argv += _maybe(c, 0.7, "--out", v.path(c))
    argv += _maybe(c, 0.3, "--resume")
    argv += _maybe(c, 0.2, "--threads", c.pick(["1", "2", "64", "0", "-1", v.HUGE, "x"]))
    return argv + [flag for flag in ("--fit", "--plot", "--report") if c.chance(0.1)]


COMMANDS = [list_argv, fit_argv, plot_argv, report_argv, compare_argv, predict_argv, plan_argv,
            sparsity_argv, accuracy_argv, run_argv]


def cli_case(c: Chooser) -> Case:
    argv = c.pick_call(COMMANDS)
    if c.chance(0.05):  # a flag that does not exist, or the last flag given twice
        argv = argv + c.pick([["--bogus"], ["--n"], argv[-2:]])
    return Case(tuple(argv))
