"""The fuzzing suite's own parts, checked without running chainbench: the generators draw
the same kinds of input from hypothesis and from random.Random, each damage does damage,
experiment files are TOML, and the invariants flag what they should and nothing else."""

import random
import tomllib

from hypothesis import given

from .cases import Case
from .choose import RandomChooser, strategy
from .damage import meta, points
from .draw_experiment import experiment_case, skeleton, toml
from .draw_mix import MIX
from .execute import Outcome
from .invariants import outcome_findings, write_findings
from .sandbox import Sandbox

HEADER = b"point,n,time_median_s\r\n"
ROWS = b"0,4,1e-06\r\n1,8,2e-06\r\n"


def test_every_generator_draws_cases_from_a_seeded_random():
    for generator, _, _ in MIX:
        drawn = [generator(RandomChooser(random.Random(i))) for i in range(30)]
        assert all(isinstance(c, Case) and c.argv for c in drawn)
        assert len({c.argv for c in drawn}) > 5  # not one input over and over
        assert drawn[3] == generator(RandomChooser(random.Random(3)))  # replayable


@given(case=strategy(experiment_case))
def test_experiment_files_are_toml_or_a_deliberate_syntax_error(case):
    text = case.setup[0].text
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert "[1, " in text


def test_the_skeleton_is_the_tiny_experiment_as_toml():
    assert tomllib.loads(toml(skeleton())) == skeleton()


def test_damage_changes_points_and_meta():
    data = HEADER + ROWS
    assert points(data, "duplicate").count(b"\r\n") == 5
    assert b"time_median_s" not in points(data, "drop_column", "time_median_s")
    assert points(data, "set_column", "time_median_s", 0).count(b",-1\r\n") == 2
    assert points(data, "truncate", k=500) == data[:len(data) // 2]
    assert points(data, "delete") is None
    doc = b'{"experiment": "tiny", "runs": [{"threads": {"blas": []}}]}'
    assert b'"blas": [\n' in meta(doc, "blas_strings") and b'"x"' in meta(doc, "blas_strings")
    assert meta(b"{", "runs_missing") == b"{"  # damaged already: left alone


def test_outcomes_flag_tracebacks_odd_exits_and_silent_refusals():
    argv = ("predict", "dense:4", "--n", "4")
    assert outcome_findings(argv, Outcome(0, "ok", "", 1.0), 60) == []
    assert outcome_findings(argv, Outcome(2, "", "chainbench: error: x\n", 1.0), 60) == []
    kinds = [outcome_findings(argv, o, 60)[0].kind for o in (
        Outcome(1, "", "Traceback (most recent call last):\n  x\nValueError: y\n", 1.0),
        Outcome(1, "", "failed\n", 1.0), Outcome(2, "", "", 1.0), Outcome(None, "", "", 60.0),
        Outcome(0, "time nan s", "", 1.0))]
    assert kinds == ["traceback", "bad exit", "no message", "hang", "nan shown"]


def test_writes_are_judged_by_the_named_outputs(tmp_path):
    box = Sandbox(tmp_path)
    (box.work / "res").mkdir(parents=True)
    before = {"work": "dir", "work/res": "dir", "work/res/points.csv": "a:2",
              "work/res/meta.json": "b"}
    fits = dict(before, **{"work/res/fits.json": "c"})
    assert write_findings(("fit", "res"), box, before, fits, {}) == []
    (box.work / "res-2").mkdir()
    run = dict(before, **{"work/res-2": "dir", "work/res-2/points.csv": "d:3"})
    assert write_findings(("run", "t.toml", "--out", "res"), box, before, run, {}) == []
    changed = dict(before, **{"work/res/meta.json": "e"})
    found = write_findings(("accuracy", "--out", "res"), box, before, changed, {})
    assert [f.kind for f in found] == ["data changed"]
    stray = dict(before, **{"work/points.csv": "f:1"})
    found = write_findings(("run", "t.toml", "--out", ""), box, before, stray, {})
    assert [f.kind for f in found] == ["wrote outside"]


def test_a_resumed_folder_may_grow_but_keeps_its_history(tmp_path):
    box = Sandbox(tmp_path)
    folder = box.work / "results" / "tiny"
    folder.mkdir(parents=True)
    (folder / "points.csv").write_bytes(HEADER + ROWS)
    before = {"work/results/tiny/points.csv": "a:3"}
    grown = {"work/results/tiny/points.csv": "b:4"}
    blobs = {folder.resolve(): {"points.csv": HEADER + ROWS}}
    argv = ("run", "tiny.toml", "--resume")  # no --out: results/<its experiment>
    assert write_findings(argv, box, before, grown, blobs) == []
    (folder / "points.csv").write_bytes(HEADER + ROWS[:11])  # the second row lost
    assert [f.kind for f in write_findings(argv, box, before, grown, blobs)] == ["history lost"]
