"""The README's main command on a fresh machine: the one-time compile is announced and never
charged to a point's budget, a calibration on first use is announced, a figure missing a
mode says so, and the CI check of a first run (.ci/check_first_run.py) fails when a point
or an exponent is lost."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import TINY
from machine_helpers import synthetic_profile

from chainbench.cli import main
from chainbench.harness.run import sweep, timing
from chainbench.machine import current as machine_current
from chainbench.machine import profile as machine_profile

CHECK = Path(__file__).parents[1] / ".ci" / "check_first_run.py"


@pytest.fixture
def fresh_process(tmp_path, monkeypatch):
    """As in a new process on a machine with a profile (synthetic) but no compile record:
    no kind of point warmed up yet, no engine announced."""
    monkeypatch.setenv(machine_profile.PROFILE_DIR_ENV, str(tmp_path / "profiles"))
    monkeypatch.setattr(machine_current, "_CURRENT", None)
    machine_profile.save(synthetic_profile())
    monkeypatch.setattr(sweep, "_WARM", set())
    monkeypatch.setattr(sweep, "_ENGINES_READY", {})
    return tmp_path


def _slow_compile(monkeypatch, seconds: float) -> None:
    """Make every warm-up (the one-time compile) last at least ``seconds``."""
    real = sweep.warm_up

    def slow(point, policy):
        time.sleep(seconds)
        return real(point, policy)

    monkeypatch.setattr(sweep, "warm_up", slow)


def test_compile_is_not_charged_to_the_budget(fresh_process, monkeypatch, capsys):
    """A compile longer than budget_s used to turn the first point into a timeout and skip
    its whole series; now it is timed apart (compile_s) and the points are all measured."""
    exp = fresh_process / "tight.toml"
    exp.write_text(TINY.replace("max_seconds = 0.02", "max_seconds = 0.02\nbudget_s = 0.25"))
    _slow_compile(monkeypatch, 0.4)
    out = fresh_process / "res"
    assert main(["run", str(exp), "--out", str(out), "--quiet"]) == 0
    df = pd.read_csv(out / "points.csv")
    assert (df["status"] == "ok").all(), df[["mode", "n", "status", "reason"]]
    first = df.groupby("mode").head(1).set_index("mode")
    for mode in ("forward", "reverse"):  # the first point of each engine carries its compile
        assert first.loc[mode, "compile_s"] >= 0.4 and first.loc[mode, "wall_s"] > 0.25
    assert (df.groupby("mode")["compile_s"].apply(lambda c: (c.iloc[1:] < 0.4).all())).all()
    run = json.loads((out / "meta.json").read_text())["runs"][-1]
    assert set(run["compile"]) == {"forward", "reverse"}
    assert run["compile"]["forward"]["seconds"] >= 0.4


def test_guards_start_from_the_profiles_peak_rate(fresh_process):
    assert sweep.Guards(1.0).rate == synthetic_profile().peak_madds_per_s


def test_first_use_is_announced_with_the_time_it_took_last(fresh_process, monkeypatch, tiny,
                                                          capsys):
    _slow_compile(monkeypatch, 0.05)
    assert main(["run", str(tiny), "--out", str(fresh_process / "a"), "--quiet"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    before = next(i for i, line in enumerate(lines)
                  if "forward-mode kernels" in line and "(first use" in line)
    assert "timing it" in lines[before]  # nothing recorded on this machine yet
    assert lines[before + 1].startswith("forward-mode kernels ") and " in " in lines[before + 1]
    assert lines.index(next(ln for ln in lines if ln.startswith("[1/"))) > before + 1
    assert any("reverse-mode kernels" in line and "(first use" in line for line in lines)
    recorded = timing.recorded_compile_s()
    assert set(recorded) == {"forward", "reverse"}
    assert all(v >= 0.05 for times in recorded.values() for v in times.values())

    monkeypatch.setattr(sweep, "_WARM", set())  # a new process: the estimate is recorded
    monkeypatch.setattr(sweep, "_ENGINES_READY", {})
    assert main(["run", str(tiny), "--out", str(fresh_process / "b"), "--quiet"]) == 0
    again = [ln for ln in capsys.readouterr().out.splitlines() if "(first use" in ln]
    assert len(again) == 2 and all("about " in ln and ln.endswith("s) …") for ln in again)

    assert main(["run", str(tiny), "--out", str(fresh_process / "c"), "--quiet"]) == 0
    assert "(first use" not in capsys.readouterr().out  # warm in this process: nothing to say


def test_calibration_on_first_use_is_announced(fresh_process, monkeypatch, tiny, capsys):
    from chainbench.machine import calibrate

    machine_profile.cache_path().unlink()  # no profile cached on this machine
    monkeypatch.setattr(calibrate, "calibrate", lambda key=None, quick=False:
                        synthetic_profile(key))
    assert main(["run", str(tiny), "--out", str(fresh_process / "res"), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("calibrating this machine")
    assert lines[1].startswith("machine calibrated in")
    assert machine_profile.cache_path().exists()
    run = json.loads((fresh_process / "res" / "meta.json").read_text())["runs"][-1]
    assert run["profile"] == json.loads(json.dumps(synthetic_profile().to_dict()))


# --- figures that lost a mode ----------------------------------------------------------------


def _gradient_rows(lost_forward: bool) -> pd.DataFrame:
    n = np.array([64, 128, 256, 512, 1024])
    rows = []
    for mode, power in (("forward", 3), ("reverse", 2)):
        for k, size in enumerate(n):
            row = {"mode": mode, "n": size, "m": 1, "depth": 2, "width": "square",
                   "activation": "tanh", "seed": 0, "chunk_spec": "default",
                   "snapshots_spec": "default", "status": "ok", "reason": "",
                   "time_median_s": 1e-10 * size**power, "j_over_f": 3.0 * size**(power - 2),
                   "madds_predicted": float(size)**power,
                   "memory_level": "L3"}
            if mode == "forward" and lost_forward:
                row.update(status="timeout" if k == 0 else "skipped",
                           reason="measuring took 10.4 s > budget 10 s" if k == 0 else
                           "a smaller point of this series exceeded the time budget",
                           time_median_s=np.nan, j_over_f=np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.mark.parametrize("name", ["time_vs_n", "j_over_f_vs_n"])
def test_a_figure_missing_a_mode_says_so(name):
    from chainbench import plots

    fig = plots.FIGURES[name].draw(_gradient_rows(lost_forward=True))
    note = " ".join(_texts(fig).split())
    assert "forward: no points measured (1 timeout: measuring took 10.4 s" in note
    assert "4 skipped: a smaller point of this series exceeded the time budget" in note
    titles = [ax.get_title() for ax in fig.axes]
    assert not any("forward ∝ n" in t for t in titles)
    complete = plots.FIGURES[name].draw(_gradient_rows(lost_forward=False))
    assert _texts(complete) == ""
    if name == "j_over_f_vs_n":
        assert "forward ∝ n, reverse ≈ constant" in complete.axes[0].get_title()


# --- the CI check of a first run ------------------------------------------------------------


def _check(folder) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(folder)], capture_output=True,
                          text=True, timeout=120)


def _results(tmp_path, df: pd.DataFrame) -> Path:
    folder = tmp_path / "res"
    folder.mkdir()
    df.to_csv(folder / "points.csv", index=False)
    return folder


def test_check_first_run_passes_complete_results(tmp_path):
    out = _check(_results(tmp_path, _gradient_rows(lost_forward=False)) / "points.csv")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok ") and "10 points ok" in out.stdout
    assert "forward depth 2 exponent 3.00" in out.stdout
    assert "reverse depth 2 exponent 2.00" in out.stdout


def test_check_first_run_fails_with_one_line_per_problem(tmp_path):
    out = _check(_results(tmp_path, _gradient_rows(lost_forward=True)))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert all(line.startswith("FAIL ") for line in lines)
    assert any("1 point timeout (forward n=64): measuring took" in line for line in lines)
    assert any("4 points skipped (forward n=128…1024)" in line for line in lines)
    assert any("forward: no gradient exponent" in line for line in lines)


def test_check_first_run_fails_an_exponent_it_cannot_trust(tmp_path):
    df = _gradient_rows(lost_forward=False)
    df.loc[df["mode"] == "reverse", "memory_level"] = ["L2", "L2→L3", "L3", "L3→DRAM", "DRAM"]
    out = _check(_results(tmp_path, df))
    assert out.returncode == 1
    assert "reverse depth 2: exponent not fitted: only 1 point" in out.stdout
    assert _check(tmp_path / "nowhere").returncode == 2
