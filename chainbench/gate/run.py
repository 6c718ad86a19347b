"""One gate run: the code under test against the reference, measured in the same job.

Both trees set up every case (and must compute the same result); then R interleaved rounds
give each case R paired ratios of CPU time; a case that regresses is measured once more with
twice the rounds and fails the gate only if it regresses both times; the guards run on the
code under test, and a failing guard is re-measured once the same way.

    code, result = run_gate(GateOptions(quick=True))     # 0 pass, 1 fail
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import cases as cases_mod
from . import guards as guards_mod
from . import ratios, reference, report
from .driver import REPEATS, agree, choose_calls, measure_pairs, start_pair
from .errors import GateInputError
from .worker import SLOW_ENV, SlowFlagError, parse_slow_flag

#: Rounds of the first measurement; a suspect case gets RETRY_FACTOR × as many. With 12 the
#: signed-rank test still reaches p < 0.01 when disturbed rounds against the trend hold ranks
#: summing to 9 of 78 (with 10: 5 of 55, one mid-sized outlier, which missed a 1.3× slowdown
#: on a loaded 2-core VM in 3 of 8 runs of the single-case engines).
ROUNDS = 12
RETRY_FACTOR = 2
#: A case regresses when its median ratio exceeds 1 + MARGIN (and the test is significant).
MARGIN = 0.15
#: The clock the verdicts read: 'cpu' (the worker thread's CPU time) or 'wall'. Both are
#: recorded; CPU time leaves out the time other processes held the core, which on a busy
#: machine inflates a long call's wall time in every repeat (and min() cannot undo that).
CLOCK = "cpu"
CLOCKS = {"wall": ("head", "reference"), "cpu": ("head_cpu", "reference_cpu")}


@dataclass
class GateOptions:
    """What ``chainbench gate`` was asked for; ``cases`` and ``profile`` replace the shipped
    case list and this machine's profile (tests); ``guards`` False skips the guards."""

    quick: bool = False
    rounds: int = ROUNDS
    margin: float = MARGIN
    reference_tree: Path | None = None
    cases: tuple | None = None
    profile: object | None = None
    guards: bool = True
    root: Path = reference.REPO_ROOT
    select: str | None = None  # only the cases whose name contains this
    trials: int = 1  # whole comparisons (and guards) in the same two workers


def _check(opts: GateOptions) -> str:
    """The slow flag, validated; GateInputError on bad options."""
    from ..engines.registry import ENGINES

    if opts.rounds < ratios.min_rounds():
        raise GateInputError(f"--rounds {opts.rounds}: at least {ratios.min_rounds()} are "
                             f"needed for p < {ratios.ALPHA:g}")
    if not 0 < opts.margin < 10:
        raise GateInputError(f"--margin {opts.margin}: must lie between 0 and 10")
    if opts.trials < 1:
        raise GateInputError(f"--trials {opts.trials}: must be at least 1")
    flag = os.environ.get(SLOW_ENV, "")
    try:
        parse_slow_flag(flag, ENGINES)
    except SlowFlagError as err:
        raise GateInputError(str(err)) from None
    return flag


def _reference_root(opts: GateOptions) -> tuple[Path, str]:
    """(folder holding the reference chainbench/, its description)."""
    if opts.reference_tree is not None:
        tree = Path(opts.reference_tree).resolve()
        if not (tree / "chainbench" / "__init__.py").is_file():
            raise GateInputError(f"--reference-tree {tree}: no chainbench/ package in it")
        return tree, f"tree {tree}"
    doc = reference.read_reference(opts.root)
    return reference.reference_tree(opts.root, doc["commit"]), f"commit {doc['commit'][:12]}"


def _guard_plan(opts: GateOptions, say) -> guards_mod.GuardPlan:
    none = guards_mod.SizeChoice((), None, "")
    if not opts.guards:
        return guards_mod.GuardPlan(none, none, (), skipped="not asked for")
    profile = opts.profile
    if profile is None:
        try:
            from ..machine.current import current_profile

            profile = current_profile(announce=say)
        except Exception as err:  # no calibration available: the comparison still stands
            say(f"guards skipped: no machine profile ({err})")
            return guards_mod.GuardPlan(none, none, (), skipped=f"no machine profile ({err})")
    plan = guards_mod.plan_guards(profile)
    say(f"guards: forward at n={list(plan.forward.sizes)} ({plan.forward.reason}); reverse "
        f"and J/F at n={list(plan.reverse.sizes)} ({plan.reverse.reason}); ratio at "
        f"n={list(plan.ratio.sizes)} ({plan.ratio.reason})")
    return plan


def _set_up(pair, chosen, plan, say) -> tuple[list[dict], dict]:
    """Set up both trees; the per-case records (skips, mismatches) and calls per sample."""
    t0 = time.perf_counter()
    names = {c.name for c in chosen}
    head, ref = pair.setup([c.request() for c in chosen],
                           [c.request() for c in plan.cases if c.name not in names])
    cpu = pair.share_one_cpu()
    say(f"set up {len(chosen)} case(s) in both trees and {len(plan.cases)} guard point(s) "
        f"in {time.perf_counter() - t0:.1f} s (JIT compile included)"
        + (f"; both workers now share CPU {cpu}" if cpu is not None else ""))
    records, calls = [], {}
    for case in chosen:
        h, r = head[case.name], ref[case.name]
        rec = {"name": case.name, "case": case.request()}
        if "error" in h:
            rec.update(broken=h["error"], skipped=f"code under test failed: {h['error']}")
        elif "error" in r:
            rec["skipped"] = f"the reference cannot run it: {r['error']}"
        else:
            ok, worst = agree(h["check"], r["check"], case.rtol)
            rec.update(compile_s={"head": h["compile_s"], "reference": r["compile_s"]},
                       difference=worst)
            if not ok:
                rec["mismatch"] = f"results differ by {worst:.2g} of their norm > {case.rtol:g}"
            else:
                calls[case.name] = choose_calls(min(h["once_s"], r["once_s"]))
                rec["calls"] = calls[case.name]
        records.append(rec)
    broken = [c.name for c in plan.cases if "error" in head[c.name]]
    guard_calls = {c.name: choose_calls(head[c.name]["once_s"]) for c in plan.cases
                   if c.name not in broken}
    failure = f"{broken[0]}: {head[broken[0]]['error']}" if broken else None
    return records, {"cases": calls, "guards": guard_calls, "guard_failure": failure}


def _attempt(pair, calls: dict[str, int], rounds: int, margin: float) -> dict[str, dict]:
    samples = measure_pairs(pair, calls, rounds)
    head, ref = CLOCKS[CLOCK]
    out = {}
    for name, pairs in samples.items():
        comparison = ratios.compare([p[head] / p[ref] for p in pairs], margin)
        out[name] = {"rounds": rounds, "clock": CLOCK, "samples": pairs,
                     "head_s": min(p[head] for p in pairs),
                     "reference_s": min(p[ref] for p in pairs),
                     "comparison": comparison.to_dict()}
    return out


def _suspect(comparison: dict) -> bool:
    """Worth a second measurement: a regression, or a median beyond the margin that a few
    disturbed rounds kept from significance ('noisy' on the slow side)."""
    return comparison["verdict"] == "REGRESSION" or (
        comparison["verdict"] == "noisy" and comparison["ratio"] > 1.0)


def _compare(pair, records, calls, opts, say) -> None:
    """Measure, re-measure the suspects, and give every compared record its verdict: a
    suspect fails only if its second measurement regresses too."""
    first = _attempt(pair, calls, opts.rounds, opts.margin)
    again = [n for n, a in first.items() if _suspect(a["comparison"])]
    second = {}
    if again:
        say(f"re-measuring {len(again)} case(s) that regressed or looked slower beyond the "
            f"margin, {RETRY_FACTOR * opts.rounds} rounds: {', '.join(again)}")
        second = _attempt(pair, {n: calls[n] for n in again}, RETRY_FACTOR * opts.rounds,
                          opts.margin)
    for rec in records:
        if rec["name"] in first:
            rec["attempts"] = [first[rec["name"]]] + ([second[rec["name"]]]
                                                      if rec["name"] in second else [])
            rec["verdict"] = rec["attempts"][-1]["comparison"]["verdict"]


def _measure_guards(pair, plan, calls) -> dict[str, float]:
    """name -> least seconds per call of each guard point, over PASSES passes through all
    of them (a burst of load then has to hit one size in every pass to bend a fit)."""
    clock = 1 if CLOCK == "cpu" else 0
    best = dict.fromkeys((c.name for c in plan.cases), float("inf"))
    for _ in range(guards_mod.PASSES):
        for c in plan.cases:
            seconds = pair.head.time(c.name, calls[c.name], guards_mod.REPEATS)[clock]
            best[c.name] = min(best[c.name], seconds)
    return best


def _guards(pair, plan, calls, say, failure: str | None = None) -> tuple[list[dict], dict]:
    """The guards' verdicts; a failing guard is re-measured once and fails only if it
    fails both times (the report shows the later figures). ``failure``: a guard point
    raised in the code under test, which fails the guards outright."""
    if failure:
        return [{"name": "guard points", "ok": False, "retried": False, "figures": {},
                 "message": f"guard points: the code under test fails {failure}"}], {}
    measured = [_measure_guards(pair, plan, calls) if plan.cases else {}]
    first = guards_mod.evaluate_guards(plan, measured[0])
    retry = {}
    if any(g.ok is False for g in first):
        say("re-measuring the guards' series once (a guard failed)")
        measured.append(_measure_guards(pair, plan, calls))
        retry = {g.name: g for g in guards_mod.evaluate_guards(plan, measured[-1])}
    out = []
    for g in first:
        if g.ok is False:
            out.append({**vars(retry[g.name]), "retried": True, "first": g.message})
        else:
            out.append({**vars(g), "retried": False})
    return out, {"plan": {"forward": vars(plan.forward), "reverse": vars(plan.reverse),
                          "skipped": plan.skipped}, "seconds": measured}


def _meta(opts: GateOptions, flag: str, ref_root: Path, ref_desc: str) -> dict:
    sha, dirty = reference.head_commit(opts.root)
    head = "work tree" if sha is None else f"{sha[:12]}{' + changes' if dirty else ''}"
    return {"head": head, "head_commit": sha, "dirty": dirty, "reference": ref_desc,
            "reference_root": str(ref_root), "slow": flag, "rounds": opts.rounds,
            "retry_rounds": RETRY_FACTOR * opts.rounds, "margin": opts.margin,
            "alpha": ratios.ALPHA, "repeats": REPEATS, "clock": CLOCK, "quick": opts.quick,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


def run_gate(opts: GateOptions, say=print) -> tuple[int, dict]:
    """Run the gate; (exit status 0 or 1, everything measured). GateInputError: bad input."""
    t0 = time.perf_counter()
    flag = _check(opts)
    ref_root, ref_desc = _reference_root(opts)
    chosen = _chosen(opts)
    plan = _guard_plan(opts, say)
    meta = _meta(opts, flag, ref_root, ref_desc)
    trials = []
    with start_pair(opts.root, ref_root, flag) as pair:
        records, calls = _set_up(pair, chosen, plan, say)
        for k in range(opts.trials):
            if opts.trials > 1:
                say(f"trial {k + 1} of {opts.trials}")
            result = {"meta": meta, "cases": copy.deepcopy(records)}
            _compare(pair, result["cases"], calls["cases"], opts, say)
            result["guards"], result["guard_data"] = _guards(pair, plan, calls["guards"], say,
                                                             calls["guard_failure"])
            result["exit_status"], result["summary"] = report.summary(result)
            trials.append(result)
    result = trials[-1]
    if opts.trials > 1:  # the gate's own error rates: every trial's verdict is kept
        result["trials"] = [{"exit_status": t["exit_status"], "summary": t["summary"]}
                            for t in trials]
        failed = sum(t["exit_status"] != 0 for t in trials)
        result["summary"] = (f"{opts.trials - failed} of {opts.trials} trials passed, "
                             f"{failed} failed")
        result["exit_status"] = int(failed > 0)
    meta["wall_s"] = time.perf_counter() - t0
    return result["exit_status"], result


def _chosen(opts: GateOptions) -> tuple:
    """The cases to compare: the options' own, else the shipped ones (``--quick``: those
    marked quick), narrowed to names containing ``select``."""
    chosen = tuple(opts.cases) if opts.cases is not None else cases_mod.select(opts.quick)
    if opts.select:
        chosen = tuple(c for c in chosen if opts.select in c.name)
        if not chosen:
            names = ", ".join(c.name for c in cases_mod.select(opts.quick))
            raise GateInputError(f"-k {opts.select!r} matches no case; the cases: {names}")
    return chosen
