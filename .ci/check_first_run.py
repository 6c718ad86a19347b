#!/usr/bin/env python3
"""Check the results of the README's main command on a fresh checkout (cold JIT cache):
every point measured ok, and both modes' gradient exponents fitted and trusted.

    python .ci/check_first_run.py RESULTS_DIR      # or RESULTS_DIR/points.csv

RESULTS_DIR is what `chainbench run --fit --plot` printed as `results: <dir>/points.csv`.
Exit 0 with one summary line when all holds; exit 1 with one line per problem otherwise
(2 when RESULTS_DIR is not a results folder). The exponents are read from fits.json when
`--fit` wrote one, else fitted here by the same code.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

#: Modes whose gradient (m = 1, default chunk) exponent must be fitted and trusted, with the
#: exponent of their counted work (the algorithm's: n·Σc_k and m·Σc_k on a square chain).
MODES = {"forward": 3, "reverse": 2}


def problems(folder: Path) -> tuple[list[str], list[str]]:
    """(problems, what was fine) of a results folder, one line each."""
    import pandas as pd

    from chainbench.harness.analysis.tables import exponents, load, tally

    df = load(folder)
    bad, good = [], []
    counts = tally(df)
    for p in counts["problems"]:
        bad.append(f"{p['count']} point{'s' if p['count'] > 1 else ''} {p['status']} "
                   f"({p['points']}): {p['reason']}")
    if not len(df):
        bad.append("no points in points.csv")
    good.append(f"{counts['ok']} points ok")
    fits = folder / "fits.json"
    table = pd.DataFrame(json.loads(fits.read_text())["exponents"]) if fits.exists() \
        else exponents(df)
    for mode in MODES:
        rows = table[(table["mode"] == mode) & (table["m_rule"] == "m=1") &
                     (table["chunk_spec"].astype(str) == "default")] if len(table) else table
        if not len(rows):
            bad.append(f"{mode}: no gradient exponent (no series with ≥ 3 sizes of n measured)")
            continue
        for _, r in rows.iterrows():
            where = f"{mode} depth {r['depth']}"
            value = r["exponent"]
            if value is None or not math.isfinite(float(value)):
                bad.append(f"{where}: exponent not fitted: {r.get('note') or 'no reason given'}")
            elif not r.get("trusted", False):
                bad.append(f"{where}: exponent {value:.2f} not trusted: {r.get('note')}")
            else:
                good.append(f"{where} exponent {value:.2f} [{r['ci_low']:.2f}, "
                            f"{r['ci_high']:.2f}] over n={int(r['n_from'])}…{int(r['n_to'])} "
                            f"in {r.get('regime') or '-'}")
            work = r.get("work_exponent")
            if work is None or not math.isfinite(float(work)) or \
                    abs(float(work) - MODES[mode]) > 0.1:
                bad.append(f"{where}: counted work's exponent {work} is not {MODES[mode]}")
            elif r.get("per_madd_exponent") is None:
                bad.append(f"{where}: no machine's share (per_madd_exponent) in the fit")
            else:
                good.append(f"{where} = work {float(work):.2f} + machine "
                            f"{float(r['per_madd_exponent']):+.2f}")
    return bad, good


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    folder = Path(args[0])
    folder = folder.parent if folder.name == "points.csv" else folder
    if not (folder / "points.csv").exists():
        print(f"check_first_run: {folder}: not a results folder (no points.csv)", file=sys.stderr)
        return 2
    bad, good = problems(folder)
    for line in bad:
        print(f"FAIL {folder}: {line}")
    if bad:
        return 1
    print(f"ok {folder}: " + "; ".join(good))
    return 0


if __name__ == "__main__":
    sys.exit(main())
