"""The command line end to end on tiny experiments in a temporary folder."""

import json
import textwrap

import pandas as pd
import pytest
from experiment_helpers import TINY

from chainbench.cli import main
from chainbench.harness.results import COLUMNS


def _points(folder):
    return pd.read_csv(folder / "points.csv")


def test_run_writes_points_and_meta(tiny, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    df = _points(out)
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 8  # 2 n × 2 m × 2 modes
    assert (df["status"] == "ok").all()
    assert (df["check_error"] < 1e-10).all()
    assert (df["madds_counted"] == df["madds_predicted"]).all()
    assert (df["bytes_counted"] == df["bytes_predicted"]).all()
    assert (df["time_median_s"] > 0).all() and (df["j_over_f"] > 0).all()
    meta = json.loads((out / "meta.json").read_text())
    run = meta["runs"][0]
    assert meta["experiment"] == "tiny" and len(meta["experiment_sha256"]) == 64
    assert run["versions"]["numba"] and run["machine"]["cores"] >= 1
    assert run["threads"]["numba_threads"] == 1 and run["ended_at"]
    assert "[8/8]" in capsys.readouterr().out


def test_rerun_never_overwrites(tiny, tmp_path):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    before = (out / "points.csv").read_text()
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    assert (out / "points.csv").read_text() == before
    assert len(_points(tmp_path / "res-2")) == 8


def test_resume_continues_after_interruption(tiny, tmp_path):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    lines = (out / "points.csv").read_text().splitlines(keepends=True)
    (out / "points.csv").write_text("".join(lines[:4]))  # as if killed after 3 rows
    assert main(["run", str(tiny), "--out", str(out), "--resume", "--quiet"]) == 0
    df = _points(out)
    assert len(df) == 8
    assert df[["n", "m", "mode"]].drop_duplicates().shape[0] == 8
    assert df["point"].tolist() == list(range(8))
    assert len(json.loads((out / "meta.json").read_text())["runs"]) == 2


def test_interrupt_keeps_finished_rows(tiny, tmp_path, monkeypatch):
    from chainbench.harness import sweep

    real, calls = sweep.measure_point, []

    def flaky(point, policy):
        calls.append(point)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(point, policy)

    monkeypatch.setattr(sweep, "measure_point", flaky)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 130
    assert len(_points(out)) == 2


def test_budget_guard_skips_with_reason(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(TINY.replace("n = [4, 8]", "n = [4, 100000]").replace(
        "max_seconds = 0.02", "max_seconds = 0.02\nbudget_s = 0.5"))
    out = tmp_path / "res"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    df = _points(out)
    big = df[df["n"] == 100000]
    assert (big["status"] == "skipped").all()
    assert big["reason"].str.contains("budget|GiB").all()
    assert (df[df["n"] == 4]["status"] == "ok").all()


def test_timeout_skips_larger_sizes_of_series(tiny, tmp_path, monkeypatch):
    from chainbench.harness import sweep

    real = sweep.measure_point

    def slow(point, policy):
        row = real(point, policy)
        row["wall_s"] = 1e6 if point.n == 4 and point.mode == "forward" else row["wall_s"]
        return row

    monkeypatch.setattr(sweep, "measure_point", slow)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    fwd = _points(out).query("mode == 'forward' and m == 1").set_index("n")
    assert fwd.loc[4, "status"] == "timeout"
    assert fwd.loc[8, "status"] == "skipped"
    assert "exceeded the time budget" in fwd.loc[8, "reason"]


def test_fit_prints_and_saves(tmp_path, capsys):
    exp = tmp_path / "scale.toml"
    exp.write_text(TINY.replace("n = [4, 8]", "n = [4, 8, 16, 32]").replace("m = [1, 2]", "m = [1]"))
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "--quiet"]) == 0
    assert main(["fit", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exponents" in text and "cost_fit" in text
    fits = json.loads((out / "fits.json").read_text())
    assert {r["mode"] for r in fits["exponents"]} == {"forward", "reverse"}


def test_list_shows_shipped_experiments(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    for name in ("quick", "gradient_scaling", "square_vs_tall", "depth_memory", "chunk_size"):
        assert name in text


def test_compare_marks_fastest(capsys):
    assert main(["compare", "dense:64 tanh dense:1", "--n", "64"]) == 0
    text = capsys.readouterr().out
    assert text.count("← fastest") == 1 and "forward" in text and "reverse" in text


BAD_EXPERIMENTS = {
    "unknown key": ("[grid]\nn = [4]\nsizes = [1]\n", "unknown key 'sizes'; valid keys: n, m"),
    "wrong type": ('[grid]\nn = ["four"]\n', "grid.n: 'four' is not an integer"),
    "empty grid": ("[grid]\nn = []\n", "grid.n: empty list"),
    "n < 1": ("[grid]\nn = [0]\n", "grid.n: 0 is not an integer ≥ 1"),
    "bad mode": ('[grid]\nn = [4]\nmodes = ["sideways"]\n', "grid.modes: 'sideways' is not one of"),
    "bad measure": ("[grid]\nn = [4]\n[measure]\nbudget_s = -1\n", "measure.budget_s"),
    "no grid": ('name = "x"\n', "missing [grid]"),
    "bad toml": ("[grid\n", "not valid TOML"),
    "top-level key": ("[grid]\nn = [4]\n[extra]\n", "unknown key 'extra'"),
}


@pytest.mark.parametrize("case", BAD_EXPERIMENTS)
def test_bad_experiment_is_one_line_exit_2(case, tmp_path, capsys):
    text, message = BAD_EXPERIMENTS[case]
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent(text))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["run", "does/not/exist.toml"], "no such experiment file"),
    (["fit", "does/not/exist"], "no such results directory"),
    (["compare", "dense:4 tanhh", "--n", "4"], "unknown layer 'tanhh'"),
    (["compare", "dense:4", "--n", "0"], "--n must be ≥ 1"),
    (["run", "--threads", "0"], "--threads must be ≥ 1"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_fit_on_folder_that_is_not_results(tmp_path, capsys):
    assert main(["fit", str(tmp_path)]) == 2
    assert "not a results directory" in capsys.readouterr().err


def test_resume_without_results_is_an_error(tiny, tmp_path, capsys):
    assert main(["run", str(tiny), "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_module_entry_point_and_help():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "chainbench", "run", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--resume" in out.stdout


def test_run_with_fit_prints_and_saves_the_fits(tiny, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--fit"]) == 0
    assert "== cost_fit ==" in capsys.readouterr().out
    assert {"exponents", "cost_fit", "crossovers"} <= set(json.loads((out / "fits.json").read_text()))
