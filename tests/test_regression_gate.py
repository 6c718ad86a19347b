"""The regression gate (chainbench.regression): its arithmetic on synthetic pytest-benchmark
JSON, its exit statuses, and the proof that it works: an engine slowed down on purpose
fails the comparison while the unmodified engine passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainbench import regression as rg
from chainbench.regression_guards import GUARD_N, run_guards

ROOT = Path(__file__).resolve().parents[1]
CAL = rg.CALIBRATION
FAST, SLOW = "test_jacobian[reverse-n256-m1-d4-cauto]", "test_jacobian[forward-n256-m1-d4-cauto]"


def bench(name, seconds, **extra_info):
    """One pytest-benchmark entry whose rounds' min and median are both ``seconds``."""
    return {"name": name, "group": extra_info.get("mode"), "extra_info": extra_info,
            "stats": {"min": seconds, "median": seconds}}


def doc(times, series=None):
    """A pytest-benchmark document: ``times`` name -> seconds, plus the guards' series."""
    return {"machine_info": {}, "commit_info": {"id": "abc"},
            "benchmarks": [bench(name, t) for name, t in times.items()] + (series or [])}


def scaling(fwd_power=3.0, rev_power=2.0, jf=2.0):
    """The guards' series at GUARD_N: F ∝ n², reverse ∝ n^rev_power with J/F = ``jf`` at the
    smallest n, forward ∝ n^fwd_power."""
    out = []
    for n in GUARD_N:
        f = 1e-9 * n**2
        out.append(bench(f"test_evaluate[n{n}]", f, kind="evaluate", n=n, m=1, depth=4))
        rev = jf * f * (n / GUARD_N[0]) ** (rev_power - 2)
        out.append(bench(f"rev{n}", rev, kind="jacobian", mode="reverse", n=n, m=1, depth=4,
                         chunk="auto"))
        out.append(bench(f"fwd{n}", 1e-9 * n**fwd_power, kind="jacobian", mode="forward", n=n,
                         m=1, depth=4, chunk="auto"))
    return out


# --- normalisation and comparison ---------------------------------------------------------


def test_normalise_divides_by_the_calibration_of_the_same_run():
    figures = rg.normalise(doc({CAL: 2e-3, FAST: 1e-3, SLOW: 4e-3}))
    assert figures == pytest.approx({FAST: 0.5, SLOW: 2.0})


def test_normalise_without_calibration_is_bad_input():
    with pytest.raises(rg.BadInput, match=CAL):
        rg.normalise(doc({FAST: 1e-3}))


def test_compare_flags_only_figures_beyond_the_margin():
    verdicts = rg.compare({FAST: 1.29, SLOW: 1.31}, {FAST: 1.0, SLOW: 1.0}, margin=0.30)
    assert [v.regressed for v in verdicts] == [True, False]  # sorted: forward (1.31), reverse
    line = verdicts[0].line()
    assert SLOW in line and "1.31" in line and "baseline 1" in line and "+30%" in line


def test_make_baseline_takes_the_median_over_runs_and_records_the_spread():
    docs = [doc({CAL: 1.0, FAST: t}) for t in (1.0, 1.2, 1.1)]
    entry = rg.make_baseline(docs)["benchmarks"][FAST]
    assert entry["min"] == pytest.approx(1.1)
    assert entry["spread"]["min"] == pytest.approx(0.2)


# --- the gate and its one retry -----------------------------------------------------------


def fake_runs(*docs):
    calls = []

    def measure(attempt):
        calls.append(attempt)
        return docs[attempt - 1]

    return measure, calls


BASE = {FAST: 1.0, SLOW: 4.0}


def test_gate_passes_within_margin_in_one_attempt():
    measure, calls = fake_runs(doc({CAL: 1.0, FAST: 1.1, SLOW: 4.0}, scaling()))
    code, lines = rg.gate(measure, BASE)
    assert (code, calls) == (0, [1])
    assert lines[-1].startswith("PASSED")


def test_gate_retries_once_and_passes_when_the_retry_is_clean():
    measure, calls = fake_runs(doc({CAL: 1.0, FAST: 2.0, SLOW: 4.0}, scaling()),
                               doc({CAL: 1.0, FAST: 1.0, SLOW: 4.0}, scaling()))
    code, lines = rg.gate(measure, BASE)
    assert (code, calls) == (0, [1, 2])
    assert "2 attempt(s)" in lines[0]


def test_gate_fails_when_both_attempts_regress_and_names_the_benchmark():
    slow = doc({CAL: 1.0, FAST: 2.0, SLOW: 4.0}, scaling())
    measure, calls = fake_runs(slow, slow)
    code, lines = rg.gate(measure, BASE)
    assert (code, calls) == (1, [1, 2])
    failure = next(line for line in lines if line.startswith("REGRESSION"))
    assert FAST in failure and "+100.0%" in failure and "margin +30%" in failure
    assert lines[-1].startswith("FAILED")


def test_gate_lacking_guard_series_is_bad_input_unless_a_subset_was_asked_for():
    measure, _ = fake_runs(doc({CAL: 1.0, FAST: 1.0}))
    with pytest.raises(rg.BadInput, match="scaling series"):
        rg.gate(measure, BASE)
    assert rg.gate(measure, BASE, need_guards=False)[0] == 0


# --- the machine-independent guards --------------------------------------------------------


def test_guards_hold_for_textbook_scaling():
    guards = run_guards(scaling())
    assert all(g.ok for g in guards), [g.message for g in guards]


@pytest.mark.parametrize("broken, failing", [
    ({"rev_power": 3.0}, {"reverse exponent", "forward/reverse ratio", "reverse J/F"}),
    ({"fwd_power": 2.0}, {"forward exponent", "forward/reverse ratio"}),
    ({"jf": 6.0}, {"reverse J/F"}),
])
def test_guards_catch_broken_scaling(broken, failing):
    guards = run_guards(scaling(**broken))
    assert {g.name for g in guards if g.ok is False} == failing


# --- the command line ----------------------------------------------------------------------


def write(path, content):
    path.write_text(json.dumps(content))
    return path


def test_check_without_baseline_says_how_to_create_one(tmp_path, capsys):
    results = write(tmp_path / "run.json", doc({CAL: 1.0, FAST: 1.0}, scaling()))
    code = rg.main(["check", "--json", str(results), "--baseline", str(tmp_path / "none.json")])
    assert code == 2
    assert "refresh-baseline" in capsys.readouterr().err


def test_check_on_malformed_results_is_bad_input(tmp_path, capsys):
    base = tmp_path / "base.json"
    write(base, rg.make_baseline([doc({CAL: 1.0, FAST: 1.0})]))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert rg.main(["check", "--json", str(bad), "--baseline", str(base)]) == 2


def test_refresh_then_check_from_json_files(tmp_path, capsys):
    runs = [write(tmp_path / f"r{k}.json", doc({CAL: 1.0, FAST: 1.0, SLOW: 4.0}, scaling()))
            for k in range(3)]
    base = tmp_path / "base.json"
    assert rg.main(["refresh-baseline", "--json", *map(str, runs), "--baseline", str(base)]) == 0
    assert rg.main(["check", "--json", str(runs[0]), "--baseline", str(base)]) == 0
    slow = write(tmp_path / "slow.json", doc({CAL: 1.0, FAST: 1.5, SLOW: 4.0}, scaling()))
    capsys.readouterr()
    assert rg.main(["check", "--json", str(slow), "--baseline", str(base)]) == 1
    out = capsys.readouterr().out
    assert f"REGRESSION {FAST}: normalised min 1.5 vs baseline 1 (+50.0%, margin +30%)" in out


def test_runs_below_one_and_usage_errors_are_bad_input(capsys):
    assert rg.main(["refresh-baseline", "--runs", "0"]) == 2
    assert rg.main(["check", "--no-such-option"]) == 2


def test_a_run_with_nothing_but_the_calibration_is_bad_input():
    measure, _ = fake_runs(doc({CAL: 1.0}))
    with pytest.raises(rg.BadInput, match="no benchmark matched"):
        rg.gate(measure, BASE, need_guards=False)


# --- the proof: a slowed engine fails, the unmodified one passes ----------------------------


@pytest.mark.slow
def test_gate_catches_an_engine_slowed_on_purpose(tmp_path, monkeypatch, capsys):
    """Real benchmarks in a subprocess: baseline and check with the unmodified engine pass;
    with CHAINBENCH_SLOW_ENGINE=reverse:2 (reverse mode doing its work twice; see
    tests/benchmarks/conftest.py) the same check fails on that benchmark (~20 s in all)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CHAINBENCH_SLOW_ENGINE", raising=False)
    subset = ["-k", FAST.split("[")[1][:-1],  # the gate adds the calibration itself
              "--baseline", str(tmp_path / "baseline.json"), "--runs-dir", str(tmp_path)]
    assert rg.main(["refresh-baseline", "--runs", "1", *subset]) == 0
    capsys.readouterr()

    assert rg.main(["check", *subset]) == 0, capsys.readouterr().out

    monkeypatch.setenv("CHAINBENCH_SLOW_ENGINE", "reverse:2")
    assert rg.main(["check", "--no-retry", *subset]) == 1  # the retry logic is tested above
    out = capsys.readouterr().out
    assert f"REGRESSION {FAST}: normalised min" in out and "FAILED: 1 of 1 checks" in out
