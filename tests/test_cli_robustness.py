"""The command line under hostile use: a reader that leaves the pipe early, --out paths that
hold another command's data or cannot be written, sizes past what fits, seeds and budgets
out of range. Each is one line and exit 2 (or the command's own status), nothing written."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from chainbench.cli import main

QUICK = Path(__file__).parent / "fixtures" / "quick"


def _one_line_error(capsys, *says: str) -> str:
    out = capsys.readouterr()
    assert out.err.count("\n") == 1 and "Traceback" not in out.err, out.err
    for text in says:
        assert text in out.err, out.err
    return out.err


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def results(tmp_path) -> Path:
    """A copy of the committed quick results folder (points.csv, meta.json)."""
    return Path(shutil.copytree(QUICK, tmp_path / "quick"))


# --- a broken pipe never changes the exit status --------------------------------------------

FAKE = textwrap.dedent("""
    import sys
    import chainbench.cli as cli
    from chainbench.errors import ConfigError

    class Noisy:  # prints long after a `| head -1` reader has left, then ends as told
        @staticmethod
        def register(sub):
            p = sub.add_parser("noisy")
            p.add_argument("code", type=int)
            return p

        @staticmethod
        def run(args):
            for k in range(5000):
                print(f"line {k}", flush=True)
            if args.code == 2:
                raise ConfigError("bad input found after printing")
            return args.code

    cli.register(Noisy)
    sys.exit(cli.main(sys.argv[1:]))
""")


def _first_line_then_close(argv: list[str], cwd: Path) -> tuple[str, int]:
    """Run ``argv``, read its first line of stdout and close the pipe, as `| head -1` does;
    the first line and the exit status."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    return first, proc.returncode


@pytest.mark.parametrize("code", [0, 1, 2])
def test_a_reader_leaving_early_keeps_the_commands_own_exit_status(code, tmp_path):
    script = tmp_path / "noisy.py"
    script.write_text(FAKE)
    first, status = _first_line_then_close([sys.executable, str(script), "noisy", str(code)],
                                           tmp_path)
    assert first == "line 0\n"
    assert status == code


def test_a_run_piped_into_head_still_measures_every_point(tiny, tmp_path):
    out = tmp_path / "res"
    first, status = _first_line_then_close(
        [sys.executable, "-m", "chainbench", "run", str(tiny), "--out", str(out), "--quiet"],
        tmp_path)
    assert first and status == 0
    df = pd.read_csv(out / "points.csv")
    assert len(df) == 8 and (df["status"] == "ok").all()


# --- commands that write refuse another command's data ---------------------------------------


@pytest.mark.parametrize("name", ["points.csv", "meta.json"])
def test_report_never_overwrites_a_results_folders_data(results, name, capsys):
    before = _digest(results)
    assert main(["report", str(results), "--out", str(results / name)]) == 2
    _one_line_error(capsys, "is not a chainbench report")
    assert _digest(results) == before


def test_report_rewrites_its_own_report(results, capsys):
    out = results / "mine.html"
    assert main(["report", str(results), "--out", str(out)]) == 0
    assert main(["report", str(results), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_report_of_folders_with_long_names_gets_a_short_default_name(tmp_path, capsys):
    folders = [Path(shutil.copytree(QUICK, tmp_path / (f"{k}" + "q" * 89))) for k in range(3)]
    assert main(["report", *map(str, folders)]) == 0
    written = Path(capsys.readouterr().out.split("report: ", 1)[1].strip())
    assert written.parent == tmp_path and written.exists()
    assert len(written.name) <= 120 and written.name.startswith("report-0qqq")


@pytest.mark.parametrize("command", ["fit", "plot", "report"])
def test_a_folder_name_the_os_refuses_is_one_line(command, tmp_path, monkeypatch, capsys):
    """A name longer than the file system allows cannot even be looked up (ENAMETOOLONG,
    which Path.exists() raises rather than answering False)."""
    monkeypatch.chdir(tmp_path)
    assert main([command, "x" * 300]) == 2
    _one_line_error(capsys, "cannot be read as a results directory")


def test_accuracy_never_writes_into_a_runs_results_folder(results, capsys):
    before = _digest(results)
    assert main(["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", str(results)]) == 2
    _one_line_error(capsys, "holds a run's results (points.csv)", "another --out")
    assert _digest(results) == before
    (results / "points.csv").unlink()  # meta.json alone is still a run's history
    assert main(["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", str(results)]) == 2
    _one_line_error(capsys, "another command's meta.json")
    assert not (results / "accuracy.csv").exists()


def test_accuracy_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["accuracy", "dense:4", "--n", "4", "--out", str(tmp_path / "file" / "a")]) == 2
    _one_line_error(capsys, "a part of the path is a file")
    with pytest.raises(SystemExit) as exit_:
        main(["accuracy", "dense:4", "--n", "4", "--out", ""])
    assert exit_.value.code == 2
    _one_line_error(capsys, "--out: an empty path")
    if Path("/proc/self").exists():
        assert main(["accuracy", "dense:4", "--n", "4", "--out", "/proc/chainbench/a"]) == 2
        _one_line_error(capsys, "/proc/chainbench")


def _read_only(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system", str(args[-1]))


def test_accuracy_on_a_read_only_mount_is_one_line_before_measuring(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: _read_only(self))
    assert main(["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out",
                 str(tmp_path / "acc")]) == 2
    _one_line_error(capsys, "read-only", "choose another folder with --out")


def test_accuracy_that_cannot_write_its_results_is_one_line_and_leaves_no_folder(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, **k: _read_only(path))
    out = tmp_path / "acc"
    assert main(["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1].startswith("chainbench: error: ")
    assert "read-only" in err.splitlines()[-1]
    assert not out.exists()


def test_accuracy_out_dot_twice_goes_to_a_sibling(tmp_path, monkeypatch, capsys):
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    for _ in range(2):
        assert main(["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", "."]) == 0
    assert (here / "accuracy.csv").exists() and (tmp_path / "work-2" / "accuracy.csv").exists()


# --- sizes, seeds, threads and budgets in range -----------------------------------------------


@pytest.mark.parametrize("argv, says", [
    (["predict", "dense:16", "--n", "10000000000000"], "--n must be ≤ 2147483647"),
    (["predict", "dense:999999999999999999999", "--n", "4"], "widths must be ≤ 2147483647"),
    (["plan", "dense:16", "--n", "9999999999999999999999"], "--n must be ≤ 2147483647"),
    (["sparsity", "tanh,conv:3,dense:99999999999", "--n", "4"], "layer 3 of the spec"),
    (["compare", "dense:4", "--n", "99999999999"], "--n must be ≤ 2147483647"),
    (["accuracy", "dense:99999999999", "--n", "4"], "widths must be ≤ 2147483647"),
])
def test_sizes_past_the_widest_are_one_line(argv, says, capsys):
    assert main(argv) == 2
    _one_line_error(capsys, says)


def test_the_time_model_takes_working_sets_past_2_to_the_64():
    from chainbench.machine.current import current_profile

    profile = current_profile()
    assert profile.bandwidth_at(10**40) == profile.bandwidth_at(float(2**70)) > 0


@pytest.mark.parametrize("argv", [
    ["sparsity", "grouped:1000000:2", "--n", "1000000"],
    ["sparsity", "conv:3", "--n", "2000000000"],
    ["sparsity", "tanh", "--n", "400000000"],
])
def test_sparsity_patterns_pass_the_memory_guard_before_allocating(argv, monkeypatch, capsys):
    from chainbench import provenance

    monkeypatch.setattr(provenance, "available_memory", lambda: 8 * 2**30)
    assert main(argv) == 2
    _one_line_error(capsys, "GiB", "8 GiB available", "choose smaller widths")


def test_accuracy_passes_the_memory_guard_and_its_budget_first(tmp_path, monkeypatch, capsys):
    from chainbench import provenance

    out = tmp_path / "acc"
    assert main(["accuracy", "dense:64 tanh dense:1", "--n", "64", "--budget", "1e-9",
                 "--out", str(out)]) == 2
    _one_line_error(capsys, "predicted to take", "over the budget of 1e-09 s", "--budget")
    monkeypatch.setattr(provenance, "available_memory", lambda: 2**20)
    assert main(["accuracy", "dense:2000 tanh dense:1", "--n", "2000", "--out", str(out)]) == 2
    _one_line_error(capsys, "the accuracy sweep at widths 2000→2000→2000→1 needs about")
    assert not out.exists()


@pytest.mark.parametrize("command", [["compare", "dense:4"], ["accuracy", "dense:4"]])
@pytest.mark.parametrize("flag, value, says", [
    ("--seed", "-1", "argument --seed: must be an integer ≥ 0, got -1"),
    ("--budget", "nan", "argument --budget: must be a finite number of seconds > 0"),
    ("--budget", "0", "argument --budget: must be a finite number of seconds > 0"),
    ("--budget", "inf", "argument --budget: must be a finite number of seconds > 0"),
])
def test_seeds_and_budgets_out_of_range_name_their_flag(command, flag, value, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--n", "4", flag, value])
    assert exit_.value.code == 2
    _one_line_error(capsys, says)


def test_compare_refuses_threads_as_run_does(capsys):
    assert main(["compare", "dense:4", "--n", "4", "--threads", "100000"]) == 2
    _one_line_error(capsys, "--threads 100000", "give --threads 1 to")


# --- compare: a budget and progress ------------------------------------------------------------


def test_compare_skips_modes_predicted_over_its_budget_and_shows_progress(monkeypatch, capsys):
    from chainbench.harness.tools import compare
    real_predict, real_measure, measured = compare.api.predict_time, compare.measure_chain, []

    def slow_op_forward(chain, mode, *args, **kwargs):
        t = real_predict(chain, mode, *args, **kwargs)
        return t if mode != "op-forward" else dataclasses.replace(t, seconds=3600.0)

    def measure(chain, engine, *args, **kwargs):
        measured.append(engine)
        return real_measure(chain, engine, *args, **kwargs)

    monkeypatch.setattr(compare.api, "predict_time", slow_op_forward)
    monkeypatch.setattr(compare, "measure_chain", measure)
    assert main(["compare", "dense:8 tanh dense:1", "--n", "8", "--budget", "60"]) == 0
    out = capsys.readouterr()
    assert "op-forward" not in measured and "reverse" in measured
    assert "skipped (op-forward): predicted 3.6e+03 s per call > budget 60 s (--budget)" in out.out
    progress = [line for line in out.err.splitlines() if line.startswith("compare: [")]
    assert len(progress) >= len(measured) + 1
    assert any("op-forward chunk" in line and "skipped" in line for line in progress)


def test_compare_with_a_tiny_budget_measures_nothing(monkeypatch, capsys):
    from chainbench.harness.tools import compare
    monkeypatch.setattr(compare, "measure_chain", lambda *a, **k: pytest.fail("measured"))
    assert main(["compare", "dense:8 tanh dense:1", "--n", "8", "--budget", "1e-15"]) == 0
    assert "> budget 1e-15 s (--budget)" in capsys.readouterr().out


# --- a full disk says --resume only where a resume will work -----------------------------------


def test_a_full_disk_says_resume_only_where_there_is_a_run_to_resume(tmp_path):
    from chainbench.harness.storage.points_csv import os_error

    full = OSError(errno.ENOSPC, "No space left on device")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    said = str(os_error("write", fresh / "meta.json", full))
    assert "--resume" not in said and "run the command again" in said
    (fresh / "meta.json").write_text("{}")  # the run's entry was written: it resumes
    assert "continue with --resume" in str(os_error("append a row", fresh / "points.csv", full))
    assert "--resume" not in str(os_error("write", fresh / "meta.json", full, resumable=False))


def test_a_disk_full_before_the_first_row_says_what_then_works(tiny, tmp_path, monkeypatch,
                                                                capsys):
    from chainbench.harness.storage import results
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "res"
    monkeypatch.setattr(results.os, "fsync", full)  # meta.json's first write fails
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
    err = _one_line_error(capsys, "the disk is full")
    monkeypatch.undo()
    if "--resume" in err:
        assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resume"]) == 0
    else:
        assert "run the command again" in err
        assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    assert len(pd.read_csv(out / "points.csv")) == 8
