"""The Python API over the command line's pipeline: cb.Experiment, cb.run, cb.load and
Results (points, tally, fit, figures, report), checked against what the CLI does with the
same input."""

import json
import math

import numpy as np
import pytest

import chainbench as cb
from chainbench.cli import main
from chainbench.errors import ConfigError
from chainbench.harness.experiment import config
from chainbench.harness.run import sweep

QUICK = {"min_sample_ms": 0.5, "min_samples": 2, "min_seconds": 0.001, "max_seconds": 0.02}


def tiny_experiment(**changes):
    fields = {"n": [4, 8, 16], "depth": 1, "modes": ["forward", "reverse"], "measure": QUICK}
    return cb.Experiment("tiny", "three sizes, both pure modes", **{**fields, **changes})


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return cb.run(tiny_experiment(), out=tmp_path_factory.mktemp("api") / "tiny",
                  progress=False)


def test_run_writes_one_row_per_point_and_tallies_them(results):
    assert isinstance(results, cb.Results)
    assert len(results.points) == 6
    assert sorted(results.points["mode"].unique()) == ["forward", "reverse"]
    assert sorted(results.points["n"].unique()) == [4, 8, 16]
    assert results.tally["ok"] + results.tally["skipped"] + results.tally["failed"] \
        + results.tally["timeout"] == 6
    assert results.tally["ok"] == 6, results.tally["problems"]
    assert results.meta["experiment"] == "tiny"
    assert results.meta["runs"][-1]["tally"]["ok"] == 6


def test_load_reads_the_same_folder(results):
    again = cb.load(results.path)
    assert again.points.equals(results.points)
    assert again.meta == results.meta
    assert cb.load(results.path / "points.csv").path == results.path


def test_fit_is_what_the_cli_saves(results, capsys):
    fitted = results.fit()
    assert set(fitted.exponents["mode"]) == {"forward", "reverse"}
    assert {"exponent", "ci_low", "ci_high", "regime", "note"} <= set(fitted.exponents.columns)
    for mode in ("forward", "reverse"):
        value = fitted.exponent(mode)
        assert isinstance(value, float)
        row = fitted.exponents[fitted.exponents["mode"] == mode].iloc[0]
        assert math.isnan(value) if math.isnan(row["exponent"]) else value == row["exponent"]
    assert main(["fit", str(results.path)]) == 0
    capsys.readouterr()
    saved = json.loads((results.path / "fits.json").read_text())
    assert saved == json.loads(fitted.to_json())
    assert "<table" in fitted._repr_html_()


def test_plot_returns_figures_outside_pyplot(results):
    fig = results.plot("time_vs_n")
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None  # not one of pyplot's figures
    every = results.plot()
    assert "time_vs_n" in every and all(isinstance(f, Figure) for f in every.values())
    assert list(every) == results.figures()
    with pytest.raises(ConfigError, match="unknown figure 'nope'"):
        results.plot("nope")
    with pytest.raises(ConfigError, match="memory"):
        results.plot("memory_vs_depth")  # one depth only: the results cannot support it


def test_save_figures_and_report_write_files(results, tmp_path):
    saved = [path for _, path, _ in results.save_figures(tmp_path / "figs")]
    assert (tmp_path / "figs" / "time_vs_n.png") in saved
    page = results.report(tmp_path / "r.html")
    assert page == tmp_path / "r.html"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "tiny" in text


def test_results_render_as_html(results):
    text = results._repr_html_()
    assert "<table" in text and "tiny" in text and ">6<" in text


def test_prediction_renders_as_html():
    chain = cb.Chain.from_spec("dense:8 tanh dense:1", n=8)
    text = cb.predict(chain, "reverse")._repr_html_()
    assert "<table" in text and "madds_adjoint" in text


# --- experiments: the same fields, validation and words as a TOML file ----------------------


def test_an_experiment_is_the_toml_it_prints():
    exp = tiny_experiment(n=np.array([4, 8, 16]), seed=(0, 1))
    again = config.parse(exp.toml, "again.toml")
    assert again.grids == exp.grids and again.measure == exp.measure
    assert again.points() == exp.points() and len(exp.points()) == 12
    assert "<table" in exp._repr_html_()


def test_several_grids():
    exp = cb.Experiment("two", grid=[{"n": [4]}, {"n": [8], "modes": ["forward"]}])
    assert [p.n for p in exp.points()] == [4, 4, 8]


@pytest.mark.parametrize("fields, line", [
    ("n = [0]", {"n": [0]}),
    ('n = [4]\nmodes = ["nope"]', {"n": [4], "modes": ["nope"]}),
    ("n = [4]\ncolour = 1", {"n": [4], "colour": 1}),
    ("n = []", {"n": []}),
])
def test_bad_fields_say_what_the_cli_says(tmp_path, capsys, fields, line):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n[grid]\n{fields}\n')
    assert main(["run", str(path)]) == 2
    printed = capsys.readouterr().err.strip().removeprefix("chainbench: error: ")
    with pytest.raises(ConfigError) as err:
        cb.Experiment("bad", **line)
    assert str(err.value) == printed


def test_bad_measure_and_name_say_what_the_cli_says():
    with pytest.raises(ConfigError, match=r"measure.min_samples: 0 is not an integer ≥ 1"):
        cb.Experiment("x", n=[4], measure={"min_samples": 0})
    with pytest.raises(ConfigError, match="not a plain folder name"):
        cb.Experiment("../up", n=[4])


def test_load_shipped_experiment_and_wrong_types():
    assert cb.Experiment.load("quick").name == "quick"
    with pytest.raises(ConfigError, match="no such experiment file"):
        cb.Experiment.load("no_such_experiment")
    with pytest.raises(TypeError, match="give a cb.Experiment"):
        cb.run(3)
    with pytest.raises(TypeError, match="results folder's path"):
        cb.load(3)
    with pytest.raises(ConfigError, match="no such results directory"):
        cb.load("no/such/folder")


def test_bad_threads_are_refused_before_any_folder(tmp_path):
    with pytest.raises(ConfigError, match="--threads"):
        cb.run(tiny_experiment(), out=tmp_path / "t", threads=0, progress=False)
    assert not (tmp_path / "t").exists()


# --- an interrupted run leaves a folder cb.load opens ----------------------------------------


def test_interrupted_before_the_first_row_still_loads(tmp_path, monkeypatch):
    def interrupt(point, policy):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "measure_point", interrupt)
    with pytest.raises(KeyboardInterrupt) as err:
        cb.run(tiny_experiment(), out=tmp_path / "cut", progress=False)
    folder = err.value.folder
    loaded = cb.load(folder)
    assert len(loaded.points) == 0 and loaded.tally["ok"] == 0
    assert loaded.meta["runs"][-1]["interrupted"] is True
    assert len(loaded.fit().exponents) == 0


def test_interrupted_after_a_row_keeps_it(tmp_path, monkeypatch):
    real, calls = sweep.measure_point, []

    def second_interrupts(point, policy):
        calls.append(point)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(point, policy)

    monkeypatch.setattr(sweep, "measure_point", second_interrupts)
    with pytest.raises(KeyboardInterrupt) as err:
        cb.run(tiny_experiment(), out=tmp_path / "cut", progress=False)
    assert len(cb.load(err.value.folder).points) == 1
    monkeypatch.setattr(sweep, "measure_point", real)
    resumed = cb.run(tiny_experiment(), out=err.value.folder, resume=True, progress=False)
    assert resumed.path == err.value.folder and len(resumed.points) == 6


@pytest.mark.parametrize("widgets", [True, False])
def test_a_notebook_gets_the_notebook_bar(monkeypatch, widgets):
    """tqdm.auto's widget in Jupyter where ipywidgets is installed; the text bar (with no
    warning about ipywidgets) where it is not, and always outside Jupyter."""
    import importlib.util

    from chainbench.session import run as session_run

    exp = tiny_experiment().spec
    assert session_run.make_progress(exp, quiet=True).notebook is False
    assert session_run.in_notebook() is False
    monkeypatch.setattr(session_run, "in_notebook", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
        (object() if widgets else None) if name == "ipywidgets" else real(name, *a)))
    shown = session_run.make_progress(exp, quiet=True)  # quiet: no bar drawn in the test
    assert shown.notebook is widgets
