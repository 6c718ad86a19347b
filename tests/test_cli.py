"""The command line end to end on tiny experiments in a temporary folder."""

import json
import textwrap

import pandas as pd
import pytest
from experiment_helpers import TINY

from chainbench.cli import main
from chainbench.harness.storage.row import COLUMNS
from chainbench.model.shape import ChainShape


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
    from chainbench.harness.run import sweep
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
    from chainbench.harness.run import sweep
    real = sweep.measure_point

    def slow(point, policy):
        row = real(point, policy)
        row.wall_s = 1e6 if point.n == 4 and point.mode == "forward" else row.wall_s
        return row

    monkeypatch.setattr(sweep, "measure_point", slow)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    fwd = _points(out).query("mode == 'forward' and m == 1").set_index("n")
    assert fwd.loc[4, "status"] == "timeout"
    assert fwd.loc[8, "status"] == "skipped"
    assert "exceeded the time budget" in fwd.loc[8, "reason"]


def test_run_ends_with_the_tally_and_records_it(tiny, tmp_path, monkeypatch, capsys):
    from chainbench.harness.run import sweep
    real = sweep.measure_point

    def slow(point, policy):
        row = real(point, policy)
        if point.n == 4 and point.mode == "forward" and point.m == 1:
            row.wall_s = 1e6
        return row

    monkeypatch.setattr(sweep, "measure_point", slow)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "points: 4 ok, 1 timeout, 3 skipped, 0 failed" in text  # a series spans m too
    assert "  timeout ×1 (forward n=4): measuring took" in text
    assert "  skipped ×3 (forward n=4…8): a smaller point of this series exceeded" in text
    assert text.index("points: ") < text.index("results: ")
    run = json.loads((out / "meta.json").read_text())["runs"][-1]
    assert {k: run["tally"][k] for k in ("ok", "timeout", "skipped", "failed")} == {
        "ok": 4, "timeout": 1, "skipped": 3, "failed": 0}
    assert [(p["status"], p["count"]) for p in run["tally"]["problems"]] == [
        ("timeout", 1), ("skipped", 3)]
    assert run["profile"]["call_overhead_s"] > 0 and run["profile"]["levels"]


def test_a_resumed_run_tallies_its_own_points(tiny, tmp_path):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    lines = (out / "points.csv").read_text().splitlines(keepends=True)
    (out / "points.csv").write_text("".join(lines[:4]))  # as if killed after 3 rows
    assert main(["run", str(tiny), "--out", str(out), "--resume", "--quiet"]) == 0
    first, second = json.loads((out / "meta.json").read_text())["runs"]
    assert first["tally"]["ok"] == 8 and second["tally"]["ok"] == 5


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
    assert all(len(line) <= 100 for line in text.splitlines())


def test_fit_and_plot_read_the_profile_the_run_recorded(tiny, tmp_path, monkeypatch):
    """The fit rule needs the machine profile (call overhead, compute-bound regime): both
    `chainbench fit` and `chainbench plot` take it from meta.json."""
    from chainbench import plots
    from chainbench.harness.analysis import tables
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    recorded = json.loads((out / "meta.json").read_text())["runs"][-1]["profile"]
    assert tables.load(out).attrs["profile"] == recorded
    seen = []
    monkeypatch.setattr(plots, "render_all", lambda df, *a: seen.append(df.attrs) or [])
    assert main(["plot", str(out)]) == 0
    assert seen[0]["profile"] == recorded


def test_fit_prints_why_instead_of_a_number(tmp_path, capsys):
    from chainbench.cli.fit import exponent_lines

    rows = [{"mode": mode, "chunk_spec": "default", "snapshots_spec": "default", "depth": 2,
             "width": "square", "activation": "tanh", "seed": 0, "m_rule": "m=1",
             "exponent": e, "ci_low": e - 0.1, "ci_high": e + 0.1, "points": k,
             "n_from": 128, "n_to": 1024, "regime": "L3", "trusted": k >= 3,
             "note": "" if k >= 3 else "only 2 points above overhead in one regime, need 3 "
             "(above overhead: L2 2, L3 2, in transitions 3, DRAM 1)"}
            for mode, e, k in (("forward", 2.97, 6), ("reverse", float("nan"), 2))]
    lines = exponent_lines(pd.DataFrame(rows))
    assert all(len(line) <= 100 for line in lines)
    assert lines[1].startswith("forward m=1 depth 2") and "2.97" in lines[1] and "L3" in lines[1]
    assert "not fitted: only 2 points" in lines[2] and "nan" not in " ".join(lines[2:])


def test_list_shows_shipped_experiments(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    for name in ("quick", "gradient_scaling", "square_vs_tall", "depth_memory", "chunk_size"):
        assert name in text


def test_list_layers_and_modes_read_the_registries(capsys):
    import chainbench as cb

    assert main(["list", "layers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(cb.LAYERS) and lines[0].startswith("dense:WIDTH")
    assert any(line.startswith("elu") and "refuses" in line for line in lines)
    assert main(["list", "modes"]) == 0
    modes = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert modes == list(cb.MODES)
    with pytest.raises(SystemExit) as exit_:  # argparse: one usage line, exit status 2
        main(["list", "everything"])
    assert exit_.value.code == 2


def test_compare_marks_fastest(capsys):
    import re

    assert main(["compare", "dense:64 tanh dense:1", "--n", "64"]) == 0
    text = capsys.readouterr().out
    assert text.count("← fastest") == 1 and "forward" in text and "reverse" in text
    forward = next(line for line in text.splitlines() if line.startswith("forward "))
    assert re.search(r"\d (B|KiB|MiB|GiB)( |$)", forward), forward  # memory with its unit
    assert max(map(len, text.splitlines()[1:])) <= 100


def test_compare_says_once_why_modes_did_not_run():
    from chainbench.cli.compare import not_run_lines

    peers = ["jax-jacfwd", "jax-jacrev", "torch-jacfwd", "torch-jacrev", "autograd"]
    rows = pd.DataFrame({"mode": [*peers, "complex-step"], "status": "skipped",
                         "reason": [f"{p}: needs the peers extra (pip install chainbench[peers])"
                                    for p in peers] + ["complex-step: layer 1 (relu) is not "
                                                       "analytic"]})
    lines = not_run_lines(rows)
    assert max(map(len, lines)) <= 100 and lines[-1] == (
        "skipped (complex-step): layer 1 (relu) is not analytic")
    causes = " ".join(line.strip() for line in lines[:-1])  # one cause, wrapped at 100
    assert causes == (f"skipped ({', '.join(peers)}): needs the peers extra (pip install "
                      "chainbench[peers])")


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


def test_predict_order_2_ranks_the_hessian_modes_by_seconds_and_marks_auto(capsys):
    from chainbench.machine.current import current_profile
    from chainbench.second_order import HESSIAN_MODES, predict_hessian, predict_hessian_time
    from chainbench.strategies import second_choice

    spec, n = "dense:8 tanh dense:64 tanh dense:64 sigmoid", 64  # narrow, then wide
    assert main(["predict", spec, "--n", str(n), "--m", "1", "--order", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "ranked by predicted time" in lines[0]
    assert lines[1].split() == ["mode", "chunk", "time", "madds", "memory", "bound"]
    shape, profile = ChainShape.from_spec(f"{spec} dense:1", n), current_profile()
    rows = lines[2:-1]
    modes = [r.split()[0] for r in rows]
    assert sorted(modes) == sorted(HESSIAN_MODES[:-1])
    times = [predict_hessian_time(shape, mode, profile=profile).seconds for mode in modes]
    assert times == sorted(times)  # ranked, fastest first
    for row, mode in zip(rows, modes):  # multiply-adds printed beside the seconds
        assert f"{predict_hessian(shape, mode).madds:10.3g}" in row
    picked = second_choice(shape, profile)[0]
    assert [m for r, m in zip(rows, modes) if r.endswith("← auto")] == [picked]
    assert lines[-1].startswith(f"mode='auto' runs {picked}")
    assert "the fewest predicted seconds" in lines[-1]


@pytest.mark.parametrize("argv, message", [
    (["--order", "3"], "--order must be 1 (the Jacobian's modes) or 2 (the Hessian's), got 3"),
    (["--order", "2", "--n", "0"], "--n must be ≥ 1"),
    (["--order", "2", "--m", "0"], "layer 'dense:0': width must be ≥ 1, got 0"),
])
def test_predict_order_2_bad_input_is_one_line_exit_2(argv, message, capsys):
    assert main(["predict", "dense:4 tanh", "--n", "4", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(SystemExit) as exited:  # argparse's own one line, exit 2
        main(["predict", "dense:4 tanh", "--n", "4", "--order", "two"])
    assert exited.value.code == 2 and "invalid int value: 'two'" in capsys.readouterr().err


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


def test_ctrl_c_names_the_folder_the_run_wrote_to_and_how_to_resume_it(tiny, tmp_path,
                                                                      monkeypatch, capsys):
    from chainbench.harness.run import sweep
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0  # res is taken now
    real, calls = sweep.measure_point, []

    def interrupted(point, policy):
        calls.append(point)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(point, policy)

    monkeypatch.setattr(sweep, "measure_point", interrupted)
    capsys.readouterr()
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    second = tmp_path / "res-2"
    assert f"--out {second} --resume" in err and "kept in " + str(second) in err
    meta = json.loads((second / "meta.json").read_text())
    assert meta["runs"][-1]["interrupted"] is True and meta["runs"][-1]["ended_at"]
    monkeypatch.setattr(sweep, "measure_point", real)
    assert main(["run", str(tiny), "--out", str(second), "--resume", "--quiet"]) == 0


def test_the_command_line_starts_without_numba_so_ctrl_c_is_one_line():
    # importing chainbench.cli must not import numba: a Ctrl-C while a subcommand's heavy
    # imports run is then inside main(), which reports it in one line (exit 130)
    import subprocess
    import sys

    probe = "import sys, chainbench.cli; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_ctrl_c_during_a_subcommand_import_is_one_line(monkeypatch, capsys):
    from chainbench.cli import listing

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(listing, "run", interrupted)
    assert main(["list"]) == 130
    assert capsys.readouterr().err.strip() == "chainbench: interrupted"
