"""Inputs issue 23 reproduced by hand, one per class of failure: each fixed-seed fuzz test
runs its share first, so the classes stay covered whatever the seed draws."""

from .cases import CALIBRATION_LIMIT_S, Case, Copy, Damage, DamageProfile, Write
from .draw_experiment import skeleton, toml
from .draw_results import FOLDER


def _experiment(**measure) -> Write:
    """The skeleton experiment (tiny points) with ``measure`` changed."""
    doc = skeleton()
    doc["measure"].update(measure)
    return Write("exp.toml", toml(doc))


CLI = [Case(("predict", "dense:16", "--n", "10000000000000")),
       Case(("accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", "results/tiny")),
       Case(("report", "quick", "--out", "quick/points.csv")),
       Case(("sparsity", "grouped:1000000:2", "--n", "1000000")),
       Case(("compare", "dense:4 tanh dense:1", "--n", "4", "--seed", "-1"))]
# min_seconds = inf alone is capped by max_seconds; both inf measure one point for ever
EXPERIMENTS = [Case(("run", "exp.toml", "--quiet"),
                    (_experiment(min_seconds=float("inf"), max_seconds=float("inf")),))]
_TINY = Copy("results/tiny", FOLDER)
RESULTS = [
    Case(("fit", FOLDER), (_TINY, Damage(f"{FOLDER}/points.csv", "points", "drop_column",
                                         "time_median_s"))),
    Case(("report", FOLDER), (_TINY, Damage(f"{FOLDER}/points.csv", "points", "set_column",
                                            "time_median_s", 0))),
    Case(("report", FOLDER), (_TINY, Damage(f"{FOLDER}/meta.json", "meta", "blas_strings")))]
PROFILES = [Case(("predict", "dense:4 tanh dense:1", "--n", "4"),
                 (DamageProfile("levels_empty"),), CALIBRATION_LIMIT_S)]
PIPED = [Case(("run", "tiny.toml", "--quiet"))]
