"""Damaged results folders (a copy of one of the sandbox's, its points.csv and meta.json
damaged) read by fit, plot and report or resumed by run; and damaged machine-profile caches
read by predict, plan, compare and run."""

from __future__ import annotations

from . import damage
from . import values as v
from .cases import CALIBRATION_LIMIT_S, Case, Copy, Damage, DamageProfile
from .choose import Chooser

#: The damaged copy's name in the work folder.
FOLDER = "damaged"

POINTS_DAMAGE = ["duplicate", "duplicate_some", "keep_rows", "shuffle", "drop_column",
                 "set_column", "garbage", "truncate", "empty", "header_only", "bom", "lf",
                 "delete"]


def points_damage(c: Chooser) -> Damage:
    how = c.pick(POINTS_DAMAGE)
    # the time columns most of all: every reader fits them
    columns = damage.POINTS_COLUMNS + ["time_median_s"] * 4
    arg = c.pick(columns) if how in ("drop_column", "set_column") else ""
    k = c.integer(0, 999) if how in ("truncate", "garbage", "shuffle") else c.integer(0, 12)
    return Damage(f"{FOLDER}/points.csv", "points", how, arg, k)


def meta_damage(c: Chooser) -> Damage:
    how = c.pick(sorted(damage.META_DAMAGE) + ["delete", "empty", "truncate", "not_object",
                                                "nan"])
    return Damage(f"{FOLDER}/meta.json", "meta", how)


def results_case(c: Chooser) -> Case:
    base = c.pick(["results/tiny", "results/tiny", "quick", "beyond"])
    steps = [Copy(base, FOLDER)]
    steps += [points_damage(c) for _ in range(c.integer(0, 2))]
    steps += [meta_damage(c) for _ in range(c.integer(0 if len(steps) > 1 else 1, 2))]
    command = c.pick(["fit", "plot", "report", "resume", "resume"])
    if command == "resume":  # the tiny experiment's file; another folder's is refused
        argv = ["run", "tiny.toml", "--out", FOLDER, "--resume", "--quiet"]
        argv += [flag for flag in ("--fit", "--report") if c.chance(0.15)]
    elif command == "plot":
        argv = ["plot", FOLDER] + (["--why"] if c.chance(0.5) else [])
    elif command == "report":
        argv = ["report", FOLDER] + (["--out", v.path(c)] if c.chance(0.2) else [])
        argv += [v.results_dir(c)] if c.chance(0.2) else []
    else:
        argv = ["fit", FOLDER]
    return Case(tuple(argv), tuple(steps))


def profile_case(c: Chooser) -> Case:
    how = c.pick(damage.PROFILE_DAMAGE)
    command = c.pick(["predict", "predict", "plan", "compare", "run"])
    if command == "run":
        argv = ["run", "tiny.toml", "--quiet", "--out", "out"]
    else:
        argv = [command, c.pick(["dense:4 tanh dense:1", "dense:8 dense:2 dense:8", "conv:3"]),
                "--n", c.pick(["4", "8", "64"])]
        argv += ["--m", c.pick(["1", "4"])] if command == "predict" and c.chance(0.3) else []
    return Case(tuple(argv), (DamageProfile(how, c.integer(0, 6)),), CALIBRATION_LIMIT_S)
