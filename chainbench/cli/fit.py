"""``chainbench fit RESULTS_DIR``: exponents, R² against the cost model, crossovers."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub):
    p = sub.add_parser("fit", help="fit scaling exponents of a results directory",
                       description="Print and save (fits.json) the fitted figures: "
                       "exponents with 95%% intervals, R² against the cost model, crossovers.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR")
    return p


def run(args) -> int:
    fit_and_print(args.results)
    return 0


def fit_and_print(folder) -> None:
    """Print the fitted figures of a results folder and save them as fits.json."""
    from ..harness.analysis import summary
    from ..harness.results import load_points

    tables = summary(load_points(folder))
    for title, table in tables.items():
        print(f"\n== {title} ==")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
              if len(table) else "(not enough points for this figure)")
    out = Path(folder) / "fits.json"
    out.write_text(json.dumps({k: v.to_dict(orient="records") for k, v in tables.items()},
                              indent=2, default=float) + "\n")
    print(f"\nsaved: {out}")
