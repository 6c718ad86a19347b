"""The CI gate (chainbench.gate): its statistics on synthetic ratios, the guards' arithmetic
on synthetic series and machine profiles, the retry logic on scripted timings, the
reference and CLI's bad inputs (exit 2), and one real run of both workers: the unmodified
tree passes against itself, the same tree with reverse mode slowed 2× fails."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from chainbench.cli import gate as gate_cli
from chainbench.cli import main, register
from chainbench.gate import guards, ratios, reference, report, run
from chainbench.gate.cases import CASES, GRID, jac, scaling_cases, select
from chainbench.gate.driver import agree, choose_calls
from chainbench.gate.errors import GateInputError
from chainbench.gate.worker import SlowFlagError, fingerprint, parse_slow_flag
from chainbench.machine.profile import MachineProfile, MemoryLevel

ROOT = Path(__file__).resolve().parents[1]
KiB, MiB = 2**10, 2**20
register(gate_cli)  # idempotent: the CLI package may list it already


def noisy(center: float, rounds: int = 10, sd: float = 0.03, seed: int = 0) -> np.ndarray:
    return center * np.exp(np.random.default_rng(seed).normal(0.0, sd, rounds))


# --- statistics -------------------------------------------------------------------------


def test_unmodified_code_with_noise_passes():
    verdicts = {ratios.compare(noisy(1.0, seed=s), 0.15).verdict for s in range(200)}
    assert verdicts == {"ok"}


def test_a_30_percent_slowdown_regresses_through_noise():
    for s in range(200):
        c = ratios.compare(noisy(1.3, seed=s), 0.15)
        assert c.verdict == "REGRESSION" and c.p_slower < 0.01 and c.low > 1.15


def test_significance_matters_beyond_the_margin():
    # median 1.5, but four rounds of ten say faster: not significant, so not a regression
    c = ratios.compare([1.5] * 6 + [0.7] * 4, 0.15)
    assert c.ratio == pytest.approx(1.5) and c.p_slower > 0.01 and c.verdict == "noisy"


def test_a_significant_change_within_the_margin_is_ok_and_a_speed_up_beyond_improved():
    c = ratios.compare(noisy(1.05, sd=0.005), 0.15)
    assert c.p_slower < 0.01 and c.verdict == "ok"
    assert ratios.compare(noisy(0.7), 0.15).verdict == "improved"


def test_median_interval_is_an_order_statistic_interval():
    x = np.arange(1.0, 11.0)  # r = 10: [x(2), x(9)], coverage 1 - 2·P(B ≤ 1) = 97.9 %
    assert ratios.median_ci(x[::-1]) == (2.0, 9.0)
    assert ratios.median_ci([1.0, 2.0, 3.0]) == (1.0, 3.0)  # too few: the whole range


def test_rounds_needed_for_significance():
    assert ratios.min_rounds() == 7  # 2^-7 < 0.01 < 2^-6
    assert ratios.compare([2.0] * 7, 0.15).verdict == "REGRESSION"
    assert ratios.compare([2.0] * 6, 0.15).verdict == "noisy"
    with pytest.raises(ValueError, match="positive"):
        ratios.compare([1.0, 0.0, 1.1], 0.15)


# --- cases, slow flag, fingerprints ------------------------------------------------------


def test_cases_cover_every_shipped_engine_and_f():
    modes = {c.mode for c in CASES if c.kind == "jacobian"}
    assert {"forward", "reverse", "optimal", "sqrt-checkpoint", "revolve", "fd-central"} <= modes
    names = {c.name for c in CASES}
    assert len(names) == len(CASES)
    assert {"F n256 m1 d4", "reverse n32 m1 d4", "forward n512 m512 d4",
            "reverse n512 m512 d4"} <= names
    assert {c.mode for c in select(quick=True) if c.kind == "jacobian"} == modes


@pytest.mark.parametrize("flag, expected", [
    ("", None), ("reverse", ("reverse", 2.0)), ("reverse:1.3", ("reverse", 1.3)),
    ("F:1.5", ("F", 1.5)),
])
def test_slow_flag_parses(flag, expected):
    assert parse_slow_flag(flag, ("forward", "reverse")) == expected


@pytest.mark.parametrize("flag, message", [
    ("nope:2", "unknown mode"), ("auto:2", "unknown mode"), ("reverse:x", "not a number"),
    ("reverse:1", "> 1"), ("reverse:0.5", "> 1"), ("reverse:nan", "> 1"),
])
def test_slow_flag_refuses_bad_values(flag, message):
    with pytest.raises(SlowFlagError, match=message):
        parse_slow_flag(flag, ("forward", "reverse"))


def test_fingerprints_agree_within_rtol_only_and_calls_fill_a_sample():
    J = np.random.default_rng(0).standard_normal((16, 64))
    same, close = fingerprint(J), fingerprint(J * (1 + 1e-14))
    assert agree(same, close, 1e-12)[0]
    shifted = J.copy()
    shifted[3, 5] += 1e-6
    assert not agree(fingerprint(shifted), same, 1e-12)[0]  # the weighted sum sees it
    assert agree(fingerprint(J.T), same, 1e-12) == (False, float("inf"))
    assert (choose_calls(5e-6, 0.002), choose_calls(0.03, 0.002)) == (400, 1)


# --- guards ------------------------------------------------------------------------------


def profile(levels, overhead=3e-7, gemm_peak=2e10) -> MachineProfile:
    """A synthetic profile: ``levels`` are (name, capacity, bandwidth), the last unbounded."""
    stream, size = [], 8 * KiB
    while size <= 256 * MiB:
        bw = next(b for _, cap, b in levels if cap is None or size <= cap)
        stream.append((size, bw))
        size *= 2
    gemm = ((16, gemm_peak / 10), (64, gemm_peak * 0.5), (128, gemm_peak * 0.8),
            (256, gemm_peak), (512, gemm_peak))
    return MachineProfile(key={}, created="2000-01-01", call_overhead_s=overhead, gemm=gemm,
                          stream=tuple(stream),
                          levels=tuple(MemoryLevel(n, c, b) for n, c, b in levels))


EPYC = profile([("L1", 32 * KiB, 1e11), ("L2", 512 * KiB, 6e10), ("L3", 32 * MiB, 4e10),
                ("DRAM", None, 1.5e10)])


def test_reverse_sizes_stay_inside_the_highest_level_with_three_candidates():
    choice = guards.reverse_sizes(EPYC)
    assert choice.regime == "DRAM" and choice.sizes == (2048, 2435, 2896, 3444, 4096)
    assert all(guards.weights_bytes(n) >= 1.5 * 32 * MiB for n in choice.sizes)
    # with DRAM too slow to afford three sizes, the L3 below it
    slow = profile([("L1", 32 * KiB, 1e11), ("L2", 512 * KiB, 6e10), ("L3", 32 * MiB, 4e10),
                    ("DRAM", None, 2e9)])
    choice = guards.reverse_sizes(slow)
    assert choice.regime == "L3" and len(choice.sizes) >= 3
    low, high = 1.5 * 512 * KiB, 32 * MiB / 1.5
    assert all(low <= guards.weights_bytes(n) <= high for n in choice.sizes)
    assert all(n in GRID for n in choice.sizes)


def test_ratio_sizes_are_forward_sizes_whose_gradients_share_a_level():
    ratio = guards.ratio_sizes(EPYC)
    assert set(ratio.sizes) <= set(guards._forward_candidates(EPYC)) and len(ratio.sizes) >= 3
    assert {EPYC.regime(guards.weights_bytes(n)) for n in ratio.sizes} == {ratio.regime}
    # an L2 edge inside the forward sizes: the ratio keeps to one side of it or skips
    edge = profile([("L1", 32 * KiB, 1e11), ("L2", 4 * MiB, 6e10), ("DRAM", None, 1.5e10)])
    ratio = guards.ratio_sizes(edge)
    assert len({edge.regime(guards.weights_bytes(n)) for n in ratio.sizes}) <= 1


def test_forward_sizes_are_compute_bound_and_affordable():
    choice = guards.forward_sizes(EPYC)
    assert len(choice.sizes) >= 3 and min(choice.sizes) >= 128
    assert all(guards.predicted_forward_s(EPYC, n) <= guards.CALL_MAX_S for n in choice.sizes)


def test_no_level_with_three_sizes_skips_the_reverse_guards_with_a_reason():
    # levels a factor 4 apart: with the 1.5 edges each band spans < 2×, one or two sizes;
    # DRAM so slow that only one size there stays under CALL_MAX_S
    cramped = profile([("L1", 256 * KiB, 1e11), ("L2", 1 * MiB, 6e10), ("L3", 4 * MiB, 4e10),
                       ("L4", 16 * MiB, 3e10), ("DRAM", None, 1e9)], gemm_peak=1e9)
    plan = guards.plan_guards(cramped)
    assert plan.reverse.sizes == () and "no memory level holds 3" in plan.reverse.reason
    cubic = {c.name: 1e-11 * c.n**3 for c in plan.cases}  # forward points only
    verdicts = {g.name: g for g in guards.evaluate_guards(plan, cubic)}
    assert verdicts["forward exponent"].ok is True
    for name in ("reverse exponent", "reverse J/F", "forward/reverse"):
        assert verdicts[name].ok is None and "skipped" in verdicts[name].message


def series(plan, fwd_power=3.0, rev_power=2.0, jf=2.5) -> dict[str, float]:
    """Seconds of the plan's cases: forward ∝ n^fwd_power, F ∝ n², reverse = jf·F at the
    smallest reverse size and ∝ n^rev_power."""
    n0 = plan.reverse.sizes[0]
    out = {}
    for case in plan.cases:
        n = case.n
        if case.kind == "evaluate":
            out[case.name] = 1e-9 * n**2
        elif case.mode == "forward":
            out[case.name] = 1e-11 * n**fwd_power
        else:
            out[case.name] = jf * 1e-9 * n0**2 * (n / n0) ** rev_power
    return out


def test_guards_hold_for_textbook_scaling():
    plan = guards.plan_guards(EPYC)
    verdicts = guards.evaluate_guards(plan, series(plan))
    assert all(g.ok for g in verdicts), [g.message for g in verdicts]
    assert "DRAM" in verdicts[1].message and f"n={plan.reverse.sizes[0]}" in verdicts[1].message


@pytest.mark.parametrize("broken, failing", [
    ({"rev_power": 3.0}, {"reverse exponent", "forward/reverse", "reverse J/F"}),
    ({"rev_power": 0.5}, {"reverse exponent"}),
    ({"fwd_power": 2.0}, {"forward exponent", "forward/reverse"}),
    ({"jf": 6.0}, {"reverse J/F"}),
])
def test_guards_catch_broken_scaling(broken, failing):
    plan = guards.plan_guards(EPYC)
    verdicts = guards.evaluate_guards(plan, series(plan, **broken))
    assert {g.name for g in verdicts if g.ok is False} == failing


# --- the run's retry logic, on scripted timings -----------------------------------------


class ScriptedWorker:
    """Stands in for a worker process: seconds per call from ``seconds(name, count)``,
    where count is how many times that case was timed so far."""

    def __init__(self, seconds):
        self.seconds, self.count = seconds, {}

    def time(self, name, calls, repeats=1):
        self.count[name] = self.count.get(name, 0) + 1
        seconds = self.seconds(name, self.count[name])
        return seconds, seconds  # wall, CPU


class ScriptedPair:
    def __init__(self, head, ref):
        self.head, self.ref = ScriptedWorker(head), ScriptedWorker(ref)


def test_a_suspect_case_fails_only_if_it_regresses_when_measured_again():
    opts = run.GateOptions(rounds=10)
    first = 10 * 4  # timings of the first attempt: rounds × repeats
    # 'slow' is 1.3× slower throughout, 'flaky' only during the first attempt; 'suspect' is
    # 1.5× slower in 6 of its first 10 rounds and 0.7× in 4 (noisy), then 1.3× throughout

    def head(name, k):
        if name == "suspect":
            return (1.5 if (k - 1) // 4 % 10 < 6 else 0.7) if k <= first else 1.3
        return 1.3 if name == "slow" or (name == "flaky" and k <= first) else 1.0

    pair = ScriptedPair(head, lambda name, k: 1.0)
    records = [{"name": n} for n in ("slow", "flaky", "fine", "suspect")]
    run._compare(pair, records, dict.fromkeys(("slow", "flaky", "fine", "suspect"), 1), opts,
                 say=lambda m: None)
    by = {r["name"]: r for r in records}
    assert by["suspect"]["attempts"][0]["comparison"]["verdict"] == "noisy"
    assert by["suspect"]["verdict"] == "REGRESSION"
    assert by["slow"]["verdict"] == "REGRESSION" and len(by["slow"]["attempts"]) == 2
    assert by["slow"]["attempts"][1]["rounds"] == 20
    assert by["flaky"]["verdict"] == "ok" and len(by["flaky"]["attempts"]) == 2
    assert by["fine"]["verdict"] == "ok" and len(by["fine"]["attempts"]) == 1


def test_a_guard_fails_only_if_it_fails_when_measured_again():
    plan = guards.plan_guards(EPYC)
    good, cubic = series(plan), series(plan, rev_power=3.0)
    flaky = ScriptedPair(lambda name, k: (cubic if k <= guards.PASSES else good)[name], None)
    out, data = run._guards(flaky, plan, {c.name: 1 for c in plan.cases}, say=lambda m: None)
    assert all(g["ok"] for g in out) and len(data["seconds"]) == 2
    assert {g["name"] for g in out if g["retried"]} == {"reverse exponent", "forward/reverse",
                                                       "reverse J/F"}
    broken = ScriptedPair(lambda name, k: cubic[name], None)
    out, _ = run._guards(broken, plan, {c.name: 1 for c in plan.cases}, say=lambda m: None)
    assert {g["name"] for g in out if g["ok"] is False} == {"reverse exponent",
                                                           "forward/reverse", "reverse J/F"}


# --- the report ---------------------------------------------------------------------------


def result_doc(cases, guards_=()) -> dict:
    doc = {"meta": {"head": "abc", "reference": "commit def", "rounds": 10, "margin": 0.15,
                    "alpha": 0.01, "slow": ""}, "cases": cases, "guards": list(guards_)}
    doc["summary"] = report.summary(doc)[1]
    return doc


def compared(name, ratio, verdict):
    c = ratios.compare(noisy(ratio), 0.15).to_dict()
    return {"name": name, "verdict": verdict, "attempts": [
        {"comparison": c, "head_s": 1e-4 * ratio, "reference_s": 1e-4}]}


def test_report_fits_in_100_columns_and_says_what_failed():
    doc = result_doc([compared("sqrt-checkpoint n128 m16 d8", 1.3, "REGRESSION"),
                      compared("reverse n32 m1 d4", 1.0, "ok"),
                      {"name": "forward n128 m1 d4", "mismatch": "results differ by 1e-6"}],
                     [{"name": "reverse J/F", "ok": True, "message": "x " * 80}])
    lines = report.table(doc)
    assert all(len(line) <= 100 for line in lines)
    assert any(line.startswith("sqrt-checkpoint n128 m16 d8") and line.endswith("REGRESSION")
               for line in lines)
    assert "MISMATCH: results differ by 1e-6" in "\n".join(lines)
    code, summary = report.summary(doc)
    assert code == 1 and summary == ("FAILED: 1 regressed (sqrt-checkpoint n128 m16 d8); "
                                     "1 Jacobian mismatch (forward n128 m1 d4)")
    assert "\n".join(lines).endswith(textwrap.wrap(summary, 100)[-1])


def test_report_passes_when_all_is_ok():
    doc = result_doc([compared("F n256 m1 d4", 1.0, "ok"), compared("x", 0.7, "improved")],
                     [{"name": "reverse J/F", "ok": None, "message": "skipped"}])
    code, line = report.summary(doc)
    assert code == 0 and line.startswith("PASSED: 2 case(s)") and "1 improved (x)" in line


# --- the reference and the CLI's bad input -----------------------------------------------


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A git repository with one commit holding a chainbench/ package."""
    git(tmp_path, "init", "-q")
    (tmp_path / "chainbench").mkdir()
    (tmp_path / "chainbench" / "__init__.py").write_text("MODES = ()\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return tmp_path


def test_set_reference_records_the_commit_and_why(repo):
    doc = reference.set_reference(repo, "HEAD", "first reference")
    assert doc["commit"] == git(repo, "rev-parse", "HEAD") and doc["why"] == "first reference"
    assert reference.read_reference(repo) == json.loads((repo / reference.REFERENCE_FILE)
                                                        .read_text())


def test_reference_tree_is_extracted_once_by_sha(repo):
    sha = git(repo, "rev-parse", "HEAD")
    tree = reference.reference_tree(repo, sha)
    assert tree == repo / ".cache" / "gate" / sha
    assert (tree / "chainbench" / "__init__.py").read_text() == "MODES = ()\n"
    assert reference.reference_tree(repo, sha) == tree


def test_a_commit_missing_from_the_clone_is_one_clear_error(repo):
    with pytest.raises(GateInputError, match="not in this clone"):
        reference.reference_tree(repo, "0123456789abcdef0123456789abcdef01234567")


@pytest.mark.parametrize("content, message", [
    (None, "no reference"), ("{not json", "cannot read"), ('{"commit": "HEAD"}', "full commit"),
])
def test_bad_reference_files(repo, content, message):
    if content is not None:
        (repo / "results" / "gate").mkdir(parents=True)
        (repo / reference.REFERENCE_FILE).write_text(content)
    with pytest.raises(GateInputError, match=message):
        reference.read_reference(repo)


def test_the_shipped_reference_is_a_commit_of_this_repository():
    doc = reference.read_reference(ROOT)
    assert doc["why"] and git(ROOT, "cat-file", "-t", doc["commit"]) == "commit"


@pytest.mark.parametrize("argv, env, message", [
    (["--set-reference", "HEAD"], None, "needs --why"),
    (["--set-reference", "no-such-rev", "--why", "x"], None, "not a commit"),
    (["--why", "x"], None, "goes with --set-reference"),
    (["--rounds", "3"], None, "at least 7"),
    (["--margin", "0"], None, "between 0 and 10"),
    (["--reference-tree", "."], None, "no chainbench/ package"),
    ([], "reverse:1.0", "> 1"),
    ([], "reverse:1,3", "not a number"),
    ([], "backwards:2", "unknown mode"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, env, message, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    if env:
        monkeypatch.setenv("CHAINBENCH_SLOW_ENGINE", env)
    assert main(["gate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_a_reference_tree_that_cannot_be_imported_is_bad_input(tmp_path):
    (tmp_path / "chainbench").mkdir()
    (tmp_path / "chainbench" / "__init__.py").write_text("raise ImportError('broken tree')\n")
    opts = run.GateOptions(reference_tree=tmp_path, cases=(jac("reverse", 32),), guards=False)
    with pytest.raises(GateInputError, match="reference worker .* exited with status"):
        run.run_gate(opts, say=lambda m: None)


# --- one real run: both workers, a tiny case list, this repository as the reference ---------


TINY = (jac("reverse", 32), jac("forward", 64))


@pytest.mark.slow
def test_gate_passes_unmodified_code_and_catches_an_engine_slowed_on_purpose(monkeypatch):
    """Real workers on two small cases, 8 rounds (~10 s in all): this tree against itself
    passes; CHAINBENCH_SLOW_ENGINE=reverse:2 slows the code under test only, and fails."""
    monkeypatch.delenv("CHAINBENCH_SLOW_ENGINE", raising=False)
    opts = run.GateOptions(rounds=8, reference_tree=ROOT, cases=TINY, guards=False)
    code, result = run.run_gate(opts, say=lambda m: None)
    assert code == 0, "\n".join(report.table(result))  # 'noisy' would not fail it

    monkeypatch.setenv("CHAINBENCH_SLOW_ENGINE", "reverse:2")
    code, result = run.run_gate(opts, say=lambda m: None)
    by = {c["name"]: c for c in result["cases"]}
    shown = "\n".join(report.table(result))
    assert code == 1, shown
    assert result["summary"].startswith("FAILED: 1 regressed (reverse n32 m1 d4)"), shown
    assert by["reverse n32 m1 d4"]["attempts"][-1]["comparison"]["ratio"] > 1.8, shown
    assert by["forward n64 m1 d4"]["verdict"] != "REGRESSION", shown


def test_scaling_cases_are_the_gradient_chain_on_a_root_two_grid():
    assert GRID[:5] == (64, 76, 91, 108, 128) and GRID[-1] == 4096
    f, r, e = scaling_cases([128])
    assert (f.mode, r.mode, e.kind) == ("forward", "reverse", "evaluate")
    assert f.spec == "dense:128 tanh dense:128 tanh dense:128 tanh dense:128 tanh dense:1"


def test_trials_and_case_selection_on_a_tiny_case(capsys):
    import os

    from chainbench.cli import main

    root = str(ROOT)
    cpus = os.sched_getaffinity(0)
    code = main(["gate", "--reference-tree", root, "-k", "reverse n32", "--no-guards",
                 "--trials", "2", "--rounds", "8"])
    out = capsys.readouterr().out
    # the workers shared one CPU while timing; this process has its CPUs back
    assert "both workers now share CPU" in out and os.sched_getaffinity(0) == cpus
    assert "trial  1:" in out and "trial  2:" in out
    assert ("2 of 2 trials passed" in out) == (code == 0)
    assert main(["gate", "--reference-tree", root, "-k", "no such case"]) == 2
    assert "matches no case" in capsys.readouterr().err
