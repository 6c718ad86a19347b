"""``chainbench gate``: the CI gate. The code under test against the reference commit
(results/gate/reference.json), both measured in this job in interleaved pairs, plus the
guards that physics keeps on any CPU; exit 0 pass, 1 regression / failed guard / Jacobian
mismatch, 2 bad input. ``--set-reference REV --why TEXT`` moves the reference (see
docs/gate.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path


def register(sub):
    from ..gate.run import MARGIN, ROUNDS

    p = sub.add_parser("gate", help="the CI gate: this code against the reference commit",
                       description="Time every engine in this tree and in the reference "
                       "commit's, interleaved in one job; fail on a significant slowdown "
                       "beyond the margin, a failed scaling guard or a differing Jacobian.")
    p.add_argument("--quick", action="store_true", help="only the cases marked quick")
    p.add_argument("--rounds", type=int, default=ROUNDS, metavar="R",
                   help=f"interleaved rounds per case (default {ROUNDS}; a retry takes 2R)")
    p.add_argument("--margin", type=float, default=MARGIN, metavar="F",
                   help=f"a case regresses beyond 1 + F times the reference (default {MARGIN})")
    p.add_argument("--reference-tree", type=Path, metavar="PATH",
                   help="a folder holding a chainbench/ package to use as the reference")
    p.add_argument("--set-reference", metavar="REV",
                   help="record commit REV as the reference (needs --why) and stop")
    p.add_argument("--why", metavar="TEXT", help="why the reference moves (with --set-reference)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the run's JSON here")
    p.add_argument("-k", dest="select", metavar="TEXT",
                   help="only the cases whose name contains TEXT, e.g. -k 'reverse n128'")
    p.add_argument("--no-guards", action="store_true", help="compare only; skip the guards")
    p.add_argument("--trials", type=int, default=1, metavar="N",
                   help="repeat the whole comparison N times in the same workers and tally "
                   "the verdicts: how the gate's own error rates are measured (docs/gate.md)")
    return p


def run(args) -> int:
    from ..gate.driver import WorkerFailed
    from ..gate.errors import GateInputError

    try:
        if args.set_reference is not None:
            return _set_reference(args)
        if args.why is not None:
            raise GateInputError("--why goes with --set-reference REV")
        return _gate(args)
    except GateInputError as err:
        print(f"chainbench gate: error: {err}", file=sys.stderr)
        return 2
    except WorkerFailed as err:  # a worker died while measuring: that tree is broken
        print(f"chainbench gate: FAILED: {err}", file=sys.stderr)
        return 1


def _set_reference(args) -> int:
    from ..gate.reference import REFERENCE_FILE, REPO_ROOT, set_reference

    doc = set_reference(REPO_ROOT, args.set_reference, args.why)
    print(f"reference set to {doc['commit']} in {REFERENCE_FILE}; commit that file")
    return 0


def _gate(args) -> int:
    from ..gate import report
    from ..gate.reference import REPO_ROOT
    from ..gate.run import GateOptions, run_gate

    def say(message: str) -> None:
        print(f"gate: {message}", flush=True)

    opts = GateOptions(quick=args.quick, rounds=args.rounds, margin=args.margin,
                       reference_tree=args.reference_tree, select=args.select,
                       guards=not args.no_guards, trials=args.trials)
    code, result = run_gate(opts, say)
    print("\n".join(report.table(result)))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    paths = [report.write_json(result, REPO_ROOT / report.RUNS_DIR / f"gate-{stamp}.json")]
    if args.json is not None:
        paths.append(report.write_json(result, args.json))
    print(f"gate: {result['meta']['wall_s']:.0f} s; JSON: {', '.join(map(str, paths))}")
    return code
