"""The gate's report: a compact table (one row per case: reference and head time, the ratio
with its interval and p, the verdict), the guards, a final PASSED/FAILED line, and the whole
run as JSON (under ``.benchmarks/gate/``, and where ``--json`` asks).

    print("\\n".join(table(result)))
    write_json(result, path)
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

WIDTH = 100
RUNS_DIR = Path(".benchmarks/gate")


def seconds(s: float) -> str:
    """3 significant digits with a unit: '8.71 µs', '27.7 ms', '1.2 s'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            return f"{s / scale:.3g} {unit}"
    return f"{s:.3g} s"  # NaN


NAME = 28  # "sqrt-checkpoint n128 m16 d8" and a space


def _row(case: dict) -> str:
    name = case["name"]
    if case.get("skipped"):
        return f"{name:{NAME}} skipped: {case['skipped']}"[:WIDTH]
    if case.get("mismatch"):
        return f"{name:{NAME}} MISMATCH: {case['mismatch']}"[:WIDTH]
    last = case["attempts"][-1]
    c = last["comparison"]
    p = c["p_slower"] if c["ratio"] >= 1 else c["p_faster"]
    ratio = f"{c['ratio']:.3f} [{c['low']:.3f}, {c['high']:.3f}]"
    verdict = case["verdict"]
    first = case["attempts"][0]["comparison"]["verdict"]
    if len(case["attempts"]) > 1:  # re-measured: the first attempt regressed or was noisy
        both = verdict == first == "REGRESSION"
        verdict = "REGRESSION ×2" if both else f"{verdict} (retry)"
    return (f"{name:{NAME}} {seconds(last['reference_s']):>9} {seconds(last['head_s']):>9}  "
            f"{ratio:20} {p:8.3g}  {verdict}")


def table(result: dict) -> list[str]:
    """The report's lines (each at most WIDTH columns)."""
    meta = result["meta"]
    lines = _wrap(f"gate: {meta['head']} against reference {meta['reference']}; "
                   f"{meta['rounds']} interleaved rounds, margin +{meta['margin']:.0%}, "
                   f"p < {meta['alpha']:g}" + (f"; SLOWED {meta['slow']}" if meta["slow"] else ""))
    lines.append(f"{'case':{NAME}} {'reference':>9} {'head':>9}  {'ratio [95% CI]':20} "
                 f"{'p':>8}  verdict")
    lines += [_row(case) for case in result["cases"]]
    for guard in result["guards"]:
        tag = "skip" if guard["ok"] is None else "ok" if guard["ok"] else "FAIL"
        retried = " (retried)" if guard.get("retried") else ""
        lines += _wrap(f"GUARD {tag:4} {guard['message']}{retried}", indent="           ")
    for k, trial in enumerate(result.get("trials", ()), 1):  # the table shows the last one
        lines += _wrap(f"trial {k:2}: {trial['summary']}", indent="           ")
    lines += _wrap(result["summary"])
    return lines


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent) or [""]


def summary(result: dict) -> tuple[int, str]:
    """(exit status, the final line) from the cases' and guards' verdicts."""
    cases = result["cases"]
    mismatched = [c["name"] for c in cases if c.get("mismatch")]
    broken = [c["name"] for c in cases if c.get("broken")]
    regressed = [c["name"] for c in cases if c.get("verdict") == "REGRESSION"]
    improved = [c["name"] for c in cases if c.get("verdict") == "improved"]
    failed_guards = [g["name"] for g in result["guards"] if g["ok"] is False]
    held = sum(g["ok"] is True for g in result["guards"])
    compared = sum("attempts" in c for c in cases)
    problems = [f"{len(v)} {what} ({', '.join(v)})" for what, v in (
        ("regressed", regressed), ("Jacobian mismatch", mismatched),
        ("failed in the code under test", broken), ("guard(s) failed", failed_guards)) if v]
    better = f"; {len(improved)} improved ({', '.join(improved)})" if improved else ""
    if problems:
        return 1, "FAILED: " + "; ".join(problems) + better
    skipped = sum(g["ok"] is None for g in result["guards"])
    return 0, (f"PASSED: {compared} case(s) not slower beyond +{result['meta']['margin']:.0%}, "
               f"{held} guard(s) hold" + (f", {skipped} skipped" if skipped else "") + better)


def write_json(result: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=float) + "\n")
    return path
