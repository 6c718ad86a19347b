"""The regression gate: tells an engine's author at once whether a change made it slower or
broke its scaling, from figures that do not move from machine to machine.

It runs the pytest-benchmark suite in ``tests/benchmarks`` (or reads its JSON), divides each
benchmark's time by the time of a calibration measured in the same run (a BLAS kernel of
known size), and compares these normalised figures with the committed baseline: a benchmark
regresses when its figure is more than ``MARGIN`` above the baseline's, in the first run and
again in one retry. The machine-independent guards of ``regression_guards`` (fitted
exponents, J/F, forward/reverse ratio) run on the same data.

    python -m chainbench.regression check --quick        # the CI gate (~15 s; 30 s on a retry)
    python -m chainbench.regression check                # the whole grid
    python -m chainbench.regression refresh-baseline     # on purpose; see the README

Exit status: 0 pass, 1 regression or failed guard (or a benchmark's own check failed),
2 bad input (missing or malformed baseline or results, no calibration in a run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .regression_guards import Guard, run_guards

BASELINE = Path("results/benchmarks/baseline.json")
BENCH_DIR = Path("tests/benchmarks")
#: Where each run's pytest-benchmark JSON is kept (git-ignored), for CI artefacts.
RUNS_DIR = Path(".benchmarks/gate")
#: The benchmark every timing is divided by: a 256×256 matrix product, 256³ multiply-adds,
#: independent of chainbench's code, so a slower chainbench cannot hide in the calibration.
CALIBRATION = "test_calibration_gemm"
#: Statistics of the rounds the baseline keeps; the gate compares ``STAT``. The fastest
#: round is the default: other processes only ever add time, and on a shared 2-core machine
#: they moved one run's normalised median up to +140 % from the others', its minimum at
#: worst +41 % and typically 1-2 % (README, "Regression gate").
STATS = ("min", "median")
STAT = "min"
#: A normalised figure more than this fraction above the baseline's is a regression.
MARGIN = 0.30
#: pytest-benchmark options of every gate run: enough rounds that one runs undisturbed.
BENCH_OPTIONS = ("--benchmark-max-time=0.5", "--benchmark-min-rounds=7",
                 "--benchmark-sort=name", "--benchmark-columns=min,median,iqr,rounds")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
REFRESH_HINT = "create it with `python -m chainbench.regression refresh-baseline` (see README)"


class BadInput(Exception):
    """A missing or malformed baseline or results file (exit status 2)."""


class BenchmarksFailed(Exception):
    """pytest failed: a benchmark's own correctness check, or the run itself (exit status 1)."""


# --- reading and normalising --------------------------------------------------------------


def read_json(path: Path, what: str, hint: str = "") -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInput(f"no {what} at {path}" + (f"; {hint}" if hint else "")) from None
    except (OSError, ValueError) as err:
        raise BadInput(f"cannot read {what} {path}: {err}") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{what} {path} is not a JSON object")
    return doc


def timings(doc: dict, stat: str = STAT) -> dict[str, float]:
    """name -> seconds (the ``stat`` of its rounds) of every benchmark in a pytest-benchmark
    JSON document."""
    try:
        pairs = [(b["name"], float(b["stats"][stat])) for b in doc["benchmarks"]]
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"not a pytest-benchmark JSON document with benchmarks[].name and "
                       f".stats.{stat}; was it written with --benchmark-enable?") from None
    out = dict(pairs)
    if len(out) != len(pairs):
        raise BadInput("benchmark names repeat in one results file")
    return out


def normalise(doc: dict, calibration: str = CALIBRATION, stat: str = STAT) -> dict[str, float]:
    """name -> time / time of ``calibration`` in the same run, for every benchmark but the
    calibration; both times are the ``stat`` of their rounds."""
    times = timings(doc, stat)
    if calibration not in times:
        raise BadInput(f"the run has no calibration benchmark {calibration!r}; "
                       f"run a selection that includes it")
    cal = times.pop(calibration)
    if not cal > 0:
        raise BadInput(f"calibration {calibration!r} has {stat} {cal}; cannot normalise")
    return {name: t / cal for name, t in times.items()}


# --- comparing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One benchmark's normalised figure against its baseline."""

    name: str
    figure: float
    baseline: float
    margin: float
    stat: str = STAT

    @property
    def change(self) -> float:
        return self.figure / self.baseline - 1.0

    @property
    def regressed(self) -> bool:
        return self.change > self.margin

    def line(self, tag: str | None = None) -> str:
        tag = tag or ("REGRESSION" if self.regressed else "ok")
        return (f"{tag:10} {self.name}: normalised {self.stat} {self.figure:.4g} vs baseline "
                f"{self.baseline:.4g} ({self.change:+.1%}, margin +{self.margin:.0%})")


def compare(figures: dict[str, float], baseline: dict[str, float], margin: float,
            stat: str = STAT) -> list[Verdict]:
    """A verdict for every benchmark present in both the run and the baseline."""
    return [Verdict(name, figures[name], baseline[name], margin, stat)
            for name in sorted(figures) if name in baseline]


def baseline_figures(doc: dict, stat: str = STAT) -> dict[str, float]:
    """name -> normalised figure from a baseline document."""
    try:
        return {name: float(entry[stat]) for name, entry in doc["benchmarks"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadInput(f"baseline is malformed (needs benchmarks.NAME.{stat}); "
                       f"{REFRESH_HINT}") from None


def spread(runs: list[dict[str, float]]) -> dict[str, float]:
    """name -> max/min − 1 of its normalised figure over the runs that have it."""
    out = {}
    for name in sorted(set().union(*runs)):
        values = [run[name] for run in runs if name in run]
        out[name] = max(values) / min(values) - 1.0
    return out


def make_baseline(docs: list[dict], calibration: str = CALIBRATION) -> dict:
    """The baseline document from one or more runs: per benchmark and statistic the median
    of its normalised figures over the runs, their spread, and the run's parameters."""
    info = {b["name"]: b for b in docs[-1]["benchmarks"]}
    benchmarks: dict[str, dict] = {}
    for stat in STATS:
        runs = [normalise(doc, calibration, stat) for doc in docs]
        for name, s in spread(runs).items():
            values = [run[name] for run in runs if name in run]
            entry = benchmarks.setdefault(name, {
                "group": info.get(name, {}).get("group"),
                "extra_info": info.get(name, {}).get("extra_info", {}),
                "spread": {}, "runs": {}})
            entry[stat] = float(f"{statistics.median(values):.6g}")
            entry["spread"][stat] = round(s, 4)
            entry["runs"][stat] = [float(f"{v:.6g}") for v in values]
    machine = docs[-1].get("machine_info", {})
    return {
        "about": "normalised figure = seconds / seconds of the calibration in the same run, "
                 "per statistic of the rounds (min, median), median over the runs; refresh "
                 "with `python -m chainbench.regression refresh-baseline`",
        "calibration": calibration,
        "calibration_seconds": [timings(doc, STAT)[calibration] for doc in docs],
        "stat": STAT, "margin": MARGIN,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": docs[-1].get("commit_info", {}).get("id"),
        "dirty": docs[-1].get("commit_info", {}).get("dirty"),
        "machine": {"cpu": machine.get("cpu", {}).get("brand_raw", platform.processor()),
                    "python": machine.get("python_version"), "threads": machine.get("threads")},
        "benchmarks": benchmarks,
    }


# --- running ------------------------------------------------------------------------------


def run_benchmarks(json_path: Path, quick: bool = False, select: str | None = None,
                   bench_dir: Path = BENCH_DIR) -> dict:
    """Run the benchmark suite in a fresh process (one BLAS thread) and return its JSON."""
    if not Path(bench_dir).is_dir():
        raise BadInput(f"no benchmark suite at {bench_dir}; run from the repository root")
    Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", str(bench_dir), "-q", "-p", "no:cacheprovider",
           "--benchmark-enable", f"--benchmark-json={json_path}", *BENCH_OPTIONS]
    cmd += ["-m", "quick"] if quick else []
    cmd += ["-k", f"({select}) or {CALIBRATION}"] if select else []  # always calibrate
    env = {**os.environ, **{var: "1" for var in THREAD_VARS}}
    code = subprocess.call(cmd, env=env)
    if code == 5:  # pytest: no tests collected
        raise BadInput(f"no benchmark matched the selection (quick={quick}, -k {select!r})")
    if code != 0:
        raise BenchmarksFailed(f"the benchmark run failed (pytest exit {code}): a benchmark's "
                               f"own check failed; see the output above")
    return read_json(json_path, "benchmark results")


@dataclass(frozen=True)
class Attempt:
    verdicts: list[Verdict]
    guards: list[Guard]
    unmatched: list[str]  # benchmarks of the run that the baseline lacks

    @property
    def failed(self) -> set[str]:
        return ({v.name for v in self.verdicts if v.regressed}
                | {g.name for g in self.guards if g.ok is False})


def assess(doc: dict, baseline: dict, margin: float, calibration: str, stat: str) -> Attempt:
    figures = normalise(doc, calibration, stat)
    if not figures:
        raise BadInput("no benchmark matched the selection (only the calibration ran)")
    return Attempt(compare(figures, baseline, margin, stat), run_guards(doc["benchmarks"], stat),
                   sorted(set(figures) - set(baseline)))


def gate(measure: Callable[[int], dict], baseline: dict[str, float], margin: float = MARGIN,
         calibration: str = CALIBRATION, stat: str = STAT, retry: bool = True,
         need_guards: bool = True) -> tuple[int, list[str]]:
    """Measure, compare, and on any failure measure once more: a benchmark or guard fails
    the gate only when it fails both attempts. Returns (exit status, report lines)."""
    attempts = [assess(measure(1), baseline, margin, calibration, stat)]
    if attempts[0].failed and retry:
        attempts.append(assess(measure(2), baseline, margin, calibration, stat))
    failed = set.intersection(*(a.failed for a in attempts))
    last = attempts[-1]
    if need_guards and any(g.ok is None for g in last.guards):
        raise BadInput("the run lacks the scaling series the guards need; run the whole "
                       "selection (no -k)")
    retried = " (retried after a failure)" if len(attempts) > 1 else ""
    lines = [f"{stat} of the rounds, normalised by {calibration}; margin +{margin:.0%}; "
             + f"{len(attempts)} attempt(s){retried}"]
    both = " (in both attempts)" if len(attempts) > 1 else ""
    bad = [v.line("REGRESSION") + both for v in last.verdicts if v.name in failed]
    bad += [f"GUARD FAIL {g.message}{both}" for g in last.guards if g.name in failed]
    for v in last.verdicts:
        if v.name not in failed:
            lines.append(v.line("noisy" if v.regressed else "ok"))
    for g in last.guards:
        if g.name not in failed:
            lines.append(f"GUARD {'skip' if g.ok is None else 'ok' if g.ok else 'noisy':5}{g.message}")
    if last.unmatched:
        lines.append(f"NOTE: {len(last.unmatched)} benchmark(s) not in the baseline, not compared: "
                     f"{', '.join(last.unmatched[:3])}{' ...' if len(last.unmatched) > 3 else ''}")
    changes = [v.change for v in last.verdicts]
    if len(changes) >= 5 and abs(statistics.median(changes)) > margin:
        lines.append(f"NOTE: most benchmarks moved together (median change "
                     f"{statistics.median(changes):+.0%}): a change that slows every mode, or a "
                     "machine unlike the baseline's (then refresh the baseline on it)")
    lines += bad
    if failed:
        checked = len(last.verdicts) + sum(g.ok is not None for g in last.guards)
        lines.append(f"FAILED: {len(failed)} of {checked} checks; "
                     "see REGRESSION / GUARD FAIL lines above (README: reading a failure)")
        return 1, lines
    skipped = sum(g.ok is None for g in last.guards)
    lines.append(f"PASSED: {len(last.verdicts)} benchmark(s) within +{margin:.0%} of the "
                 f"baseline, {sum(g.ok is True for g in last.guards)} guard(s) hold"
                 + (f", {skipped} skipped (a subset ran)" if skipped else ""))
    return 0, lines


# --- command line -------------------------------------------------------------------------


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chainbench.regression",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run the benchmarks and compare with the baseline")
    refresh = sub.add_parser("refresh-baseline", help="measure and write a new baseline")
    for p in (check, refresh):
        p.add_argument("--quick", action="store_true", help="the quick subset (marker 'quick')")
        p.add_argument("-k", dest="select", help="pytest -k expression: a subset of benchmarks")
        p.add_argument("--baseline", type=Path, default=BASELINE)
        p.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
        p.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help="where run JSON is kept")
    check.add_argument("--json", type=Path, help="judge this results file instead of running")
    check.add_argument("--margin", type=float, default=MARGIN)
    check.add_argument("--stat", choices=STATS, default=STAT, help="statistic of the rounds")
    check.add_argument("--no-retry", action="store_true")
    refresh.add_argument("--json", type=Path, nargs="+", help="build from these results files")
    refresh.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    refresh.add_argument("--calibration", default=CALIBRATION)
    return parser


def _measure(args, label: str) -> Callable[[int], dict]:
    def measure(attempt: int) -> dict:
        path = args.runs_dir / f"{label}-{attempt}.json"
        print(f"[regression] benchmark run {attempt} -> {path}", flush=True)
        return run_benchmarks(path, args.quick, args.select, args.bench_dir)
    return measure


def _check(args) -> int:
    base = read_json(args.baseline, "baseline", REFRESH_HINT)
    figures = baseline_figures(base, args.stat)
    calibration = base.get("calibration", CALIBRATION)
    if args.json:
        doc = read_json(args.json, "benchmark results")
        measure, retry = (lambda attempt: doc), False
    else:
        measure, retry = _measure(args, "check"), not args.no_retry
    code, lines = gate(measure, figures, args.margin, calibration, args.stat, retry,
                       need_guards=args.select is None)
    print("\n".join(lines))
    return code


def _refresh(args) -> int:
    if args.json:
        docs = [read_json(path, "benchmark results") for path in args.json]
    else:
        measure = _measure(args, "refresh")
        docs = [measure(k + 1) for k in range(args.runs)]
    base = make_baseline(docs, args.calibration)
    entries = base["benchmarks"]
    for name, entry in entries.items():
        print(f"{name}: normalised " + ", ".join(
            f"{stat} {entry[stat]:.4g} (spread {entry['spread'][stat]:.1%})" for stat in STATS))
    if len(docs) > 1:
        for stat in STATS:
            worst = max(entries, key=lambda k: entries[k]["spread"][stat])
            spreads = [e["spread"][stat] for e in entries.values()]
            print(f"spread (max/min - 1) of the normalised {stat} over {len(docs)} runs: median "
                  f"{statistics.median(spreads):.1%}, largest {entries[worst]['spread'][stat]:.1%} "
                  f"({worst})")
        print(f"the gate compares the {STAT} with margin +{MARGIN:.0%}")
    for guard in run_guards(docs[-1]["benchmarks"], STAT):
        tag = "skip" if guard.ok is None else "ok" if guard.ok else "FAIL"
        print(f"GUARD {tag:5}{guard.message}")
    args.baseline.parent.mkdir(parents=True, exist_ok=True)
    args.baseline.write_text(json.dumps(base, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.baseline} ({len(entries)} benchmarks); commit it with a note of why")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2)
        return int(stop.code or 0)
    if getattr(args, "runs", 1) < 1:
        print("regression: --runs must be at least 1", file=sys.stderr)
        return 2
    try:
        return _check(args) if args.command == "check" else _refresh(args)
    except BadInput as err:
        print(f"regression: {err}", file=sys.stderr)
        return 2
    except BenchmarksFailed as err:
        print(f"regression: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
