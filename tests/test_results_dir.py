"""Results folders survive crashes, concurrent runs and damaged files (issue 14): a row cut
mid-write or garbled is set aside in points.damaged.csv and measured again; a folder knows
its experiment; one run owns a folder at a time (run.lock); and a folder that cannot be
written is one line and exit 2, not a traceback."""

from __future__ import annotations

import errno
import json
import os
import platform
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import TINY

from chainbench.cli import main
from chainbench.harness.experiment.config import ConfigError
from chainbench.harness.storage.points_csv import DAMAGED, load_points, scan
from chainbench.harness.storage.results import ResultsDir
from chainbench.harness.storage.row import COLUMNS, Row

#: Tests of what the sweep and `chainbench run` do with the folder once they use it as
#: issue 14's note asks (ResultsDir.open_for_run(..., experiment=exp.name), `with results:`,
#: end_run(..., interrupted=True), threads.check_threads): strict, so that they say when the
#: wiring is in and this mark can go.

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A results folder of the tiny experiment, run once for the module (8 rows)."""
    base = tmp_path_factory.mktemp("finished")
    (base / "tiny.toml").write_text(TINY)
    assert main(["run", str(base / "tiny.toml"), "--out", str(base / "res"), "--quiet"]) == 0
    return base / "res"


@pytest.fixture
def folder(finished, tmp_path):
    """A fresh copy of the finished folder, and the tiny experiment file beside it."""
    out = tmp_path / "res"
    out.mkdir()
    for name in ("points.csv", "meta.json"):
        (out / name).write_bytes((finished / name).read_bytes())
    (tmp_path / "tiny.toml").write_text(TINY)
    return out


def _lines(out: Path) -> list[bytes]:
    return (out / "points.csv").read_bytes().splitlines(keepends=True)


def _resume(out: Path) -> int:
    return main(["run", str(out.parent / "tiny.toml"), "--out", str(out), "--resume",
                 "--quiet"])


def _complete(out: Path) -> pd.DataFrame:
    """The folder reads back whole: 8 rows, one per point, ids unique."""
    df = load_points(out)
    assert len(df) == 8 and df[["n", "m", "mode"]].drop_duplicates().shape[0] == 8
    assert df["point"].is_unique and (df["status"] == "ok").all()
    assert df.attrs["damaged"] == []
    assert pd.api.types.is_numeric_dtype(df["time_median_s"])
    return df


# --- 1. damaged points.csv on --resume ---------------------------------------------------------


def test_row_cut_mid_write_is_set_aside_and_measured_again(folder, capsys):
    lines = _lines(folder)
    cut = lines[5][:37]  # a crash in the middle of row 5: no line end, fewer fields
    (folder / "points.csv").write_bytes(b"".join(lines[:5]) + cut)
    assert _resume(folder) == 0
    df = _complete(folder)
    assert (folder / "points.csv").read_bytes().startswith(b"".join(lines[:5]))
    aside = (folder / DAMAGED).read_bytes()
    assert cut in aside and b"line 6: cut mid-write" in aside
    assert "set aside line 6 (cut mid-write" in capsys.readouterr().err
    meta = json.loads((folder / "meta.json").read_text())
    assert any("points.damaged.csv" in w for w in meta["warnings"])
    assert sorted(df["point"]) == list(range(8))  # the cut row's id is given again, once


def test_repair_returns_what_it_set_aside(folder):
    lines = _lines(folder)
    (folder / "points.csv").write_bytes(b"".join(lines[:3]) + lines[3][:20])
    results = ResultsDir(folder)
    (part,) = results.repair()
    assert part.line == 4 and "cut mid-write" in part.why and part.text == lines[3][:20].decode()
    assert results.repair() == []  # whole again
    assert len(load_points(folder)) == 2


def test_empty_points_file_gets_its_header(folder):
    (folder / "points.csv").write_bytes(b"")
    assert _resume(folder) == 0
    assert _lines(folder)[0].decode().strip() == ",".join(COLUMNS)
    _complete(folder)


def test_append_to_an_empty_file_writes_the_header_first(tmp_path):
    results = ResultsDir(tmp_path)
    (tmp_path / "points.csv").write_bytes(b"")
    results.append(Row(n=4, m=1, depth=1, width="square", activation="tanh", seed=0,
                       mode="forward", chunk_spec="default", snapshots_spec="default",
                       point=0, status="ok"))
    assert list(load_points(tmp_path)["n"]) == [4]


@pytest.mark.parametrize("damage, why", [
    (lambda row: row.replace(b"tiny", b"ti\x00y"), "NUL"),
    (lambda row: row.replace(b"tiny", b"ti\xffy"), "not UTF-8"),
    (lambda row: b"\x00" * len(row), "NUL"),
    (lambda row: row.replace(b",ok,", b",ok,extra,"), "fields, not"),
    (lambda row: row.replace(b"tiny,1,", b"tiny,x,"), "point = 'x' is not an integer"),
    (lambda row: b"garbage\r\n", "fields, not"),
    (lambda row: b'tiny,"unclosed\r\n' + row, "not CSV"),  # a stray quote eats no good row
])
def test_garbled_rows_are_set_aside_and_measured_again(folder, damage, why):
    lines = _lines(folder)
    bad = damage(lines[2])
    (folder / "points.csv").write_bytes(b"".join(lines[:2]) + bad + b"".join(lines[3:]))
    found = scan(folder / "points.csv")
    assert found.damaged and why in found.damaged[0].why
    assert _resume(folder) == 0
    _complete(folder)
    assert bad.splitlines()[0] in (folder / DAMAGED).read_bytes()


def test_a_row_whose_reason_spans_lines_is_not_damage(tmp_path):
    results = ResultsDir(tmp_path)
    row = {"n": 4, "m": 1, "depth": 1, "width": "square", "activation": "tanh", "seed": 0,
           "mode": "forward", "chunk_spec": "default", "snapshots_spec": "default",
           "status": "failed", "reason": 'line one, "quoted"\nline two\r\nthree'}
    results.append(Row(**{**row, "point": 0}))
    results.append(Row(**{**row, "point": 1, "n": 8}))
    found = scan(tmp_path / "points.csv")
    assert found.damaged == [] and len(found.rows) == 2
    assert results.repair() == []
    assert list(load_points(tmp_path)["reason"]) == [row["reason"]] * 2
    assert results.next_point_id() == 2 and len(results.done_keys()) == 2


def test_load_points_leaves_damaged_rows_out_and_fit_says_so(folder, capsys):
    lines = _lines(folder)
    damaged = b"".join(lines[:4]) + b"tiny,\xff\xfe\r\n" + b"".join(lines[4:8]) + lines[8][:50]
    (folder / "points.csv").write_bytes(damaged)
    df = load_points(folder)
    assert len(df) == 7 and pd.api.types.is_numeric_dtype(df["n"])
    assert [p.line for p in df.attrs["damaged"]] == [5, 10]
    assert (folder / "points.csv").read_bytes() == damaged  # reading changes nothing
    assert main(["fit", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "left out damaged points.csv line 5" in err
    assert "--resume" in err


def _with_id(line: bytes, point: int) -> bytes:
    first, _, rest = line.split(b",", 2)
    return b",".join([first, str(point).encode(), rest])


@pytest.mark.parametrize("copy", ["same row", "same point, other id", "same id, other point"])
def test_repeated_rows_are_left_out_and_resume_sets_them_aside(folder, capsys, copy):
    lines = _lines(folder)
    extra = {"same row": lines[2], "same point, other id": _with_id(lines[2], 99),
             "same id, other point": _with_id(lines[3], 1)}[copy]
    original = b"".join(lines)
    (folder / "points.csv").write_bytes(original + extra + lines[5])  # two repeats
    df = load_points(folder)
    assert len(df) == 8 and df["point"].is_unique  # each point counted once, never twice
    assert [p.line for p in df.attrs["damaged"]] == [10, 11]
    assert all("repeats" in p.why for p in df.attrs["damaged"])
    assert main(["fit", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "left out damaged points.csv line 10 (repeats" in err
    assert "keeps each point's first row" in err
    assert _resume(folder) == 0
    assert (folder / "points.csv").read_bytes() == original  # first rows kept, none measured
    aside = (folder / DAMAGED).read_bytes()
    assert extra in aside and b"line 10: repeats" in aside and b"line 11: repeats point" in aside
    assert "each point keeps its first row" in capsys.readouterr().err
    _complete(folder)


def test_resume_of_an_empty_folder_starts_the_run_there(folder):
    """A run stopped before it wrote meta.json (a full disk): --resume starts with no row."""
    for name in ("points.csv", "meta.json"):
        (folder / name).unlink()
    (folder / "meta.json.123.tmp").write_text('{"exp')  # what a full disk left
    assert _resume(folder) == 0
    _complete(folder)
    assert json.loads((folder / "meta.json").read_text())["experiment"] == "tiny"


def test_damaged_meta_is_one_line_saying_what_to_do(folder, capsys):
    (folder / "meta.json").write_text('{"experiment": "tiny", "runs": [')
    assert _resume(folder) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "meta.json: damaged" in err and "move it aside" in err
    assert not (folder / "run.lock").exists()  # refused, and the folder left free
    # as the message says: moved aside, the run resumes and starts a new meta.json
    (folder / "meta.json").rename(folder / "meta.json.damaged")
    assert _resume(folder) == 0
    assert json.loads((folder / "meta.json").read_text())["experiment"] == "tiny"


@pytest.mark.parametrize("text", ["", "[]", '{"runs": 3}', "\x00\x00"])
def test_meta_that_is_not_chainbench_json_is_damaged(tmp_path, text):
    (tmp_path / "meta.json").write_text(text)
    with pytest.raises(ConfigError, match="meta.json: damaged"):
        ResultsDir(tmp_path).read_meta()


def test_resume_of_a_run_that_wrote_no_row_yet(folder):
    (folder / "points.csv").unlink()  # meta.json only: the run died before its first row
    assert _resume(folder) == 0
    _complete(folder)


# --- 2. identity ---------------------------------------------------------------------------


def test_resuming_another_experiments_folder_is_refused(folder):
    with pytest.raises(ConfigError) as err:
        ResultsDir.open_for_run(folder, resume=True, experiment="other")
    message = str(err.value)
    assert "holds results of experiment 'tiny', not 'other'" in message
    assert "--out results/other" in message and "\n" not in message
    assert not (folder / "run.lock").exists()
    ResultsDir.open_for_run(folder, resume=True, experiment="tiny").release()


def test_identity_from_the_rows_when_meta_is_gone(folder):
    (folder / "meta.json").unlink()
    with pytest.raises(ConfigError, match="holds results of experiment 'tiny'"):
        ResultsDir.open_for_run(folder, resume=True, experiment="other")


def test_cli_refuses_to_resume_another_experiment(folder, capsys):
    other = folder.parent / "other.toml"
    other.write_text(TINY.replace('name = "tiny"', 'name = "other"'))
    before = (folder / "points.csv").read_bytes()
    assert main(["run", str(other), "--out", str(folder), "--resume", "--quiet"]) == 2
    assert "holds results of experiment 'tiny'" in capsys.readouterr().err
    assert (folder / "points.csv").read_bytes() == before


def test_changed_experiment_file_still_warns(folder):
    changed = folder.parent / "tiny.toml"
    changed.write_text(TINY.replace("min_samples = 2", "min_samples = 3"))
    assert _resume(folder) == 0
    meta = json.loads((folder / "meta.json").read_text())
    assert any("hash differs" in w for w in meta.get("warnings", []))


# --- 3. one owner at a time ----------------------------------------------------------------

_CLAIM = textwrap.dedent("""
    import sys, time
    from chainbench.harness.storage.results import ResultsDir
    start, out, resume = float(sys.argv[1]), sys.argv[2], sys.argv[3] == "resume"
    time.sleep(max(0.0, start - time.time()))
    try:
        folder = ResultsDir.open_for_run(out, resume)
    except Exception as err:
        print("refused:", err, flush=True)
        sys.exit(0)
    folder.write_meta({"experiment": "tiny", "runs": []})
    print("owned:", folder.path, flush=True)
    time.sleep(float(sys.argv[4]))
    folder.release()
""")


def _claimers(tmp_path, out, k, resume=False, hold=2.0):
    import time

    script = tmp_path / "claim.py"
    script.write_text(_CLAIM)
    start = time.time() + 3.0  # every process imported and waiting, then all at once
    procs = [subprocess.Popen([sys.executable, str(script), str(start), str(out),
                               "resume" if resume else "new", str(hold)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(k)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    return [o.strip() for o, _ in outs]


def test_concurrent_fresh_runs_never_share_a_folder(tmp_path):
    out = tmp_path / "res"
    said = _claimers(tmp_path, out, 4)
    owned = sorted(line.split(": ", 1)[1] for line in said)
    assert owned == sorted(str(out if k == 1 else tmp_path / f"res-{k}") for k in range(1, 5))
    assert not list(tmp_path.glob("res*/run.lock"))  # each released its own


def test_concurrent_resumes_one_refused(folder, tmp_path):
    said = _claimers(tmp_path, folder, 2, resume=True, hold=5.0)
    assert sorted(line.split(":")[0] for line in said) == ["owned", "refused"]
    (refusal,) = [line for line in said if line.startswith("refused")]
    assert "another run is writing here (pid" in refusal and "run.lock" in refusal


def test_two_cli_runs_on_one_out_at_once(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY)
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "chainbench", "run", str(tmp_path / "tiny.toml"), "--out",
           str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    assert not any("Traceback" in e for _, e in outs)
    for folder in (out, tmp_path / "res-2"):
        _complete(folder)
        assert len(json.loads((folder / "meta.json").read_text())["runs"]) == 1


def _write_lock(folder: Path, **fields) -> None:
    info = {"pid": os.getpid(), "hostname": platform.node(), "started_at": "then",
            "token": "t0", **fields}
    (folder / "run.lock").write_text(json.dumps(info))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_of_a_dead_pid_is_taken_over_with_a_note(folder, capsys):
    _write_lock(folder, pid=_dead_pid())
    with ResultsDir.open_for_run(folder, resume=True, experiment="tiny") as results:
        assert results.owned
        assert any("is no longer running" in n for n in results.notes)
        assert json.loads((folder / "run.lock").read_text())["pid"] == os.getpid()
    assert not (folder / "run.lock").exists()
    assert "took over the lock" in capsys.readouterr().err
    meta = json.loads((folder / "meta.json").read_text())
    assert any("took over the lock" in w for w in meta["warnings"])


def test_lock_of_a_live_process_refuses_resume(folder):
    _write_lock(folder, pid=os.getppid())  # alive, and not this process
    with pytest.raises(ConfigError, match=r"another run is writing here \(pid \d+ on host"):
        ResultsDir.open_for_run(folder, resume=True)
    assert json.loads((folder / "run.lock").read_text())["token"] == "t0"  # left alone


def test_in_this_process_a_live_owner_holds_a_released_one_not(folder):
    first = ResultsDir.open_for_run(folder, resume=True)
    with pytest.raises(ConfigError, match=f"another run is writing here \\(pid {os.getpid()}"):
        ResultsDir.open_for_run(folder, resume=True)
    first.release()
    ResultsDir.open_for_run(folder, resume=True).release()
    _write_lock(folder, token="left-behind")  # ours, but no live owner took it
    with ResultsDir.open_for_run(folder, resume=True) as results:
        assert any("left by an earlier run in this same process" in n for n in results.notes)


def test_lock_of_another_host_is_never_taken_over(folder):
    _write_lock(folder, pid=_dead_pid(), hostname="elsewhere.example")
    with pytest.raises(ConfigError, match="host elsewhere.example.*delete .*run.lock"):
        ResultsDir.open_for_run(folder, resume=True)


def test_fresh_run_skips_a_held_empty_folder(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    _write_lock(out, pid=os.getppid())
    with ResultsDir.open_for_run(out, resume=False) as results:
        assert results.path == tmp_path / "res-2"


def test_lock_released_by_release_with_and_garbage_collection(tmp_path):
    results = ResultsDir.open_for_run(tmp_path / "a", resume=False)
    assert (tmp_path / "a" / "run.lock").exists()
    results.release()
    results.release()  # twice is fine
    assert not (tmp_path / "a" / "run.lock").exists()
    ResultsDir.open_for_run(tmp_path / "b", resume=False)  # dropped at once
    assert not (tmp_path / "b" / "run.lock").exists()


def test_interrupted_run_leaves_the_folder_free(tiny, tmp_path, monkeypatch):
    from chainbench.harness.run import sweep
    calls = []

    def interrupt(point, policy):
        calls.append(point)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "measure_point", interrupt)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 130
    assert not (out / "run.lock").exists()


def test_interrupted_run_is_marked_in_meta(tiny, tmp_path, monkeypatch):
    from chainbench.harness.run import sweep
    def interrupt(point, policy):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "measure_point", interrupt)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 130
    run = json.loads((out / "meta.json").read_text())["runs"][-1]
    assert run["ended_at"] and run["interrupted"] is True


# --- 4. no traceback for a user error ---------------------------------------------------------


def _one_line_exit_2(argv, capsys, *expected) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chainbench: error: ") and "\n" not in err, err
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.parametrize("where, expected", [
    ("afile/sub", "a part of the path is a file"),
    ("afile", "exists and is not a directory"),
    ("/proc/chainbench-x/y", "cannot create"),
    ("/sys/chainbench-x", "cannot create"),
])
def test_out_that_cannot_be_created(tiny, tmp_path, capsys, monkeypatch, where, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    _one_line_exit_2(["run", str(tiny), "--out", where, "--quiet"], capsys, expected)


def _refuse_writes_in(monkeypatch, folder: Path):
    """Writes into ``folder`` fail as in a read-only folder, even for root (who may write
    anywhere): os.open for the lock, open for points.csv, meta.json, fits.json, figures."""
    import builtins
    import io

    def refused(path) -> bool:
        return isinstance(path, str | os.PathLike) and Path(path).parent == folder

    real_os_open = os.open

    def os_open(path, flags, *args, **kwargs):
        if refused(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_os_open(path, flags, *args, **kwargs)

    real_open = builtins.open

    def open_(file, mode="r", *args, **kwargs):
        if refused(file) and any(c in mode for c in "wax+"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)


def test_read_only_folder_run_resume_fit(folder, capsys, monkeypatch):
    empty = folder.parent / "empty"
    empty.mkdir()
    _refuse_writes_in(monkeypatch, folder)
    _one_line_exit_2(["run", str(folder.parent / "tiny.toml"), "--out", str(folder),
                      "--resume", "--quiet"], capsys, str(folder), "chmod u+w")
    _one_line_exit_2(["fit", str(folder)], capsys, "fits.json", "writable")
    _one_line_exit_2(["plot", str(folder), "--out", str(folder)], capsys, "writable")
    monkeypatch.undo()
    _refuse_writes_in(monkeypatch, empty)
    _one_line_exit_2(["run", str(folder.parent / "tiny.toml"), "--out", str(empty),
                      "--quiet"], capsys, str(empty), "Permission denied")


@pytest.mark.skipif(ROOT, reason="root writes into read-only folders")
def test_read_only_folder_for_real(folder, capsys):
    folder.chmod(0o555)
    try:
        _one_line_exit_2(["run", str(folder.parent / "tiny.toml"), "--out", str(folder),
                          "--resume", "--quiet"], capsys, "chmod u+w")
        _one_line_exit_2(["fit", str(folder)], capsys, "fits.json")
    finally:
        folder.chmod(0o755)


def test_disk_full_while_appending_is_one_line(folder, capsys, monkeypatch):
    import io

    real = io.open

    def full(file, mode="r", *args, **kwargs):
        if isinstance(file, os.PathLike | str) and Path(file).name == "points.csv" \
                and "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real(file, mode, *args, **kwargs)

    (folder / "points.csv").write_bytes(b"".join(_lines(folder)[:3]))
    monkeypatch.setattr(io, "open", full)
    _one_line_exit_2(["run", str(folder.parent / "tiny.toml"), "--out", str(folder),
                      "--resume", "--quiet"], capsys, "disk is full", "--resume")


@pytest.mark.parametrize("name", ["..", ".", "../escape", "-rf"])
def test_experiment_named_like_a_path_is_refused(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.toml").write_text(TINY.replace('name = "tiny"', f'name = "{name}"'))
    _one_line_exit_2(["run", "exp.toml", "--quiet"], capsys, "not a plain folder name")
    assert not (tmp_path / "points.csv").exists() and not (tmp_path / "results").exists()


def test_ctrl_c_while_a_subcommand_imports(folder, capsys, monkeypatch):
    class Interrupting(types.ModuleType):  # Ctrl-C lands while `plot` imports its figures
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "chainbench.plots", Interrupting("chainbench.plots"))
    try:
        code = main(["plot", str(folder)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() as a traceback")
    assert code == 130
    assert capsys.readouterr().err == "chainbench: interrupted\n"


@pytest.mark.parametrize("argv", [["run", "x.toml", "--threads", "abc"], ["frobnicate"], [],
                                  ["plot", "res", "--format", "bmp"],
                                  ["run", "--scheduler", "tcp://h:1", "--local-cluster", "2"]])
def test_usage_errors_are_one_line_too(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "error: " in err
    assert "--help`)" in err


def test_fit_on_an_empty_points_file(folder, capsys):
    (folder / "points.csv").write_bytes(b"")
    _one_line_exit_2(["fit", str(folder)], capsys, "empty, no row written yet", "--resume")


@pytest.mark.parametrize("command", ["fit", "report"])
def test_points_without_times_have_nothing_to_fit(folder, capsys, command):
    df = pd.read_csv(folder / "points.csv").drop(columns=["time_median_s"])
    df.to_csv(folder / "points.csv", index=False)
    assert main([command, str(folder)]) == 0
    out = capsys.readouterr().out
    assert command == "report" or out.count("(not enough points for this figure)") == 5


@pytest.mark.parametrize("command", ["fit", "report"])
def test_points_without_a_status_is_one_line(folder, capsys, command):
    df = pd.read_csv(folder / "points.csv").drop(columns=["status"])
    df.to_csv(folder / "points.csv", index=False)
    _one_line_exit_2([command, str(folder)], capsys, "missing status")


@pytest.mark.parametrize("command", ["fit", "report"])
def test_points_without_the_columns_a_table_reads_leave_it_empty(folder, capsys, command):
    df = pd.read_csv(folder / "points.csv")
    df.drop(columns=["engine", "madds_predicted", "time_predicted_s"]).to_csv(
        folder / "points.csv", index=False)
    assert main([command, str(folder)]) == 0
    out = capsys.readouterr().out
    assert command == "report" or "== cost_fit ==\n(not enough" in out


@pytest.mark.parametrize("command", ["fit", "report"])
def test_points_whose_every_time_is_negative_have_nothing_to_fit(folder, capsys, command):
    df = pd.read_csv(folder / "points.csv")
    df["time_median_s"] = -1
    df.to_csv(folder / "points.csv", index=False)
    assert main([command, str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out and (command == "report" or "== cost_fit ==\n(not enough" in out)


@pytest.mark.parametrize("threads", [{"numba_threads": 1, "blas": ["openblas", 3]}, ["x"], 7])
def test_report_on_meta_of_unexpected_types(folder, capsys, threads):
    meta = json.loads((folder / "meta.json").read_text())
    for run in meta["runs"]:
        run.update(threads=threads, machine=["m"], profile={"gemm": [1, "x"]},
                   peer_versions="none")
    (folder / "meta.json").write_text(json.dumps(meta))
    assert main(["report", str(folder)]) == 0
    html = (folder / "report.html").read_text()
    assert "openblas" in html if isinstance(threads, dict) else "<html" in html.lower()


def test_more_threads_than_cpus_is_one_line(tiny, tmp_path, capsys):
    cpus = len(os.sched_getaffinity(0))
    _one_line_exit_2(["run", str(tiny), "--threads", str(cpus + 62), "--out",
                      str(tmp_path / "res"), "--quiet"], capsys, f"--threads {cpus + 62}")


# --- 6. the local cluster's dashboard stays on this machine -----------------------------------


def test_local_cluster_listens_on_localhost_only(monkeypatch):
    from contextlib import nullcontext

    from chainbench.harness.cluster import connection as dist

    seen = {}
    fake = types.SimpleNamespace(LocalCluster=lambda **kw: seen.update(kw) or "cluster")
    monkeypatch.setattr(dist, "require", lambda: fake)
    monkeypatch.setitem(sys.modules, "dask", types.SimpleNamespace(
        config=types.SimpleNamespace(set=lambda *a, **k: nullcontext())))
    assert dist.local_cluster(2) == "cluster"
    assert seen["host"] == "127.0.0.1" and seen["dashboard_address"] == "127.0.0.1:0"
    dist.local_cluster(2, host="0.0.0.0", dashboard_address=":8787")  # when asked to
    assert seen["host"] == "0.0.0.0" and seen["dashboard_address"] == ":8787"
