"""Figures drawn from the committed quick results (tests/fixtures/quick, written by
`chainbench run --out tests/fixtures/quick`): no benchmarking here. Every figure renders,
shows the series and labels it should, agrees with the fitted figures of harness.analysis.tables,
and is skipped, with a message saying why, when the results lack what it needs."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from chainbench import plots
from chainbench.cli import main
from chainbench.harness.analysis import tables
from chainbench.harness.run import sweep
from chainbench.harness.storage.points_csv import load_points
from chainbench.harness.storage.results import ResultsDir

QUICK = Path(__file__).parent / "fixtures" / "quick"
NAMES = ["time_vs_n", "j_over_f_vs_n", "time_vs_madds", "memory_vs_depth",
         "crossover_heatmap", "time_vs_chunk"]


@pytest.fixture(scope="module")
def quick() -> pd.DataFrame:
    return load_points(QUICK)


@pytest.fixture
def results(tmp_path) -> Path:
    """A copy of the quick results, so figures are never written into the fixture."""
    return Path(shutil.copytree(QUICK, tmp_path / "quick"))


def _write(tmp_path, df: pd.DataFrame) -> Path:
    folder = tmp_path / "edited"
    folder.mkdir()
    df.to_csv(folder / "points.csv", index=False)
    return folder


def _labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts] + \
        [t.get_text() for leg in fig.legends for t in leg.texts]


def _plot_axes(fig):
    """The axes that hold data (not colour bars)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# --- every figure ----------------------------------------------------------------------------


def test_registry_lists_the_six_figures_in_order():
    assert list(plots.FIGURES)[: len(NAMES)] == NAMES


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_render_all_saves_every_figure(quick, tmp_path, fmt):
    report = plots.render_all(quick, tmp_path / "figs", fmt)
    assert [name for name, _, _ in report] == list(plots.FIGURES)
    for name, path, message in report:
        if name not in NAMES:  # figures of other experiments (checkpointing, …) skip
            assert path is None and message.startswith("skipped: ")
            continue
        assert path == tmp_path / "figs" / f"{name}.{fmt}", message
        assert path.stat().st_size > 1000 and message == f"saved: {path}"
        if fmt == "png":
            assert path.stat().st_size < 150_000, "committed PNGs should stay small"


@pytest.mark.parametrize("name", NAMES)
def test_figure_is_titled_and_labelled(quick, name):
    fig = plots.FIGURES[name].draw(quick)
    titles = [fig._suptitle.get_text()] if fig._suptitle else []
    titles += [ax.get_title() for ax in _plot_axes(fig)]
    assert any(titles), f"{name}: no title"
    for ax in _plot_axes(fig):
        assert ax.get_xlabel() and (ax.get_ylabel() or ax is not _plot_axes(fig)[0])
        assert ax.has_data(), f"{name}: empty axes"
    assert _labels(fig), f"{name}: no legend"


def test_figures_do_not_change_the_data(quick):
    before = quick.copy()
    for name in NAMES:
        plots.FIGURES[name].draw(quick)
    pd.testing.assert_frame_equal(quick, before)


# --- what each figure shows ------------------------------------------------------------------


def test_time_vs_n_legend_carries_the_fitted_exponents(quick):
    fig = plots.time_vs_n(quick)
    (ax,) = fig.axes  # the quick results sweep n only at m = 1
    assert ax.get_title() == "m = 1 (gradient)"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "n (inputs)" in ax.get_xlabel() and "time" in ax.get_ylabel()
    labels = _labels(fig)
    guides = [label for label in labels if "(guide, under " in label]
    assert guides and all(label[:4] in ("∝ n²", "∝ n³") for label in guides)
    exps = tables.exponents(quick)
    for mode in ("forward", "reverse"):
        slope = exps.loc[(exps["mode"] == mode) & (exps["chunk_spec"].astype(str) == "default"),
                         "exponent"].item()
        said = f"{mode}: slope {slope:.2f}" if math.isfinite(slope) else f"{mode}: not fitted"
        assert any(label.startswith(said) for label in labels), labels


def test_each_guide_runs_beside_the_series_it_names(quick):
    """A guide ∝ n^p follows the series it is drawn under, within its offset, over that
    series' fitted range: not a line through the middle of the plot."""
    from chainbench.plots.scaling import GUIDE_OFFSET

    (ax,) = plots.time_vs_n(quick).axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    for label, line in lines.items():
        if "(guide, under " not in label:
            continue
        mode = label.split("under ")[1].rstrip(")")
        series = next(v for k, v in lines.items() if k.startswith(f"{mode}:"))
        n, t = series.get_xdata().astype(float), series.get_ydata().astype(float)
        x, y = line.get_xdata(), line.get_ydata()
        assert n.min() <= x.min() and x.max() <= n.max()
        below = np.interp(np.log(x), np.log(n), np.log(t)) - np.log(y)
        assert np.all(np.abs(below - np.log(GUIDE_OFFSET)) < np.log(2.5)), (label, below)


def test_j_over_f_title_names_a_missing_mode(quick):
    """Without forward mode the J/F figure must not claim 'forward ∝ n'."""
    title = plots.j_over_f_vs_n(quick[quick["mode"] == "reverse"]).axes[0].get_title()
    assert "forward ∝ n" not in title and "forward not measured" in title
    assert "forward ∝ n" in plots.j_over_f_vs_n(quick).axes[0].get_title()


def test_j_over_f_draws_the_cheap_gradient_band(quick):
    fig = plots.j_over_f_vs_n(quick)
    (ax,) = fig.axes
    labels = _labels(fig)
    assert labels[:2] == ["forward", "reverse"]
    assert any("cheap gradient" in label and "3–4" in label for label in labels)
    assert "∝ n (guide, under forward)" in labels
    forward = ax.get_lines()[0]
    m1 = quick[(quick["mode"] == "forward") & (quick["m"] == 1)
               & (quick["chunk_spec"].astype(str) == "default") & (quick["depth"] == 2)]
    assert list(forward.get_xdata()) == sorted(m1["n"])


def test_time_vs_madds_draws_each_engines_rate_and_no_linear_fit(quick):
    fig = plots.time_vs_madds(quick)
    (loglog,) = fig.axes  # no time_predicted_s in these rows: the log-log panel alone
    assert loglog.get_xscale() == loglog.get_yscale() == "log"
    labels = _labels(fig)
    for _, row in tables.cost_fit(quick).iterrows():
        assert f"{row['engine']}: {row['points']} points, " \
               f"{row['seconds_per_gmadd']:.3g} ns per madd" in labels, labels
    assert not any("−" in label or "R²" in label for label in labels)  # no intercepts
    assert len(loglog.collections) == 2  # a scatter per engine


def test_time_vs_madds_sets_measured_beside_predicted_time(quick):
    rows = quick.assign(time_predicted_s=quick["time_median_s"] * 1.2)
    first, _ = plots.time_vs_madds(rows).axes
    assert "predicted" in first.get_xlabel() and first.get_xscale() == "log"


def test_memory_vs_depth_shows_counted_predicted_and_measured(quick):
    fig = plots.memory_vs_depth(quick)
    (ax,) = fig.axes
    labels = _labels(fig)
    assert labels[:2] == ["forward", "reverse"]
    assert any(label.startswith("counted") for label in labels)
    assert any(label.startswith("predicted") for label in labels)
    assert any(label.startswith("measured") for label in labels)
    assert "n = 64, m = 1" in ax.get_title()
    assert len(ax.get_lines()) == 2 * 3  # two modes × three kinds of bytes
    assert sorted(set(ax.get_lines()[0].get_xdata())) == [1, 2, 4, 16]


def test_memory_vs_depth_without_a_measurement(quick):
    fig = plots.memory_vs_depth(quick.assign(bytes_measured=np.nan))
    assert not any(label.startswith("measured") for label in _labels(fig))
    assert "no measured memory" in fig.axes[0].get_title()


def test_a_sparse_grid_draws_the_ratio_as_lines_over_m_over_n(quick):
    """The quick grid (m swept at one n only) is mostly empty: lines, not a heat map."""
    fig = plots.crossover_heatmap(quick)
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = _labels(fig)
    assert "predicted crossover m = n" in labels
    n64 = next(line for line in ax.get_lines() if line.get_label() == "n = 64")
    assert sorted(n64.get_xdata() * 64) == [1, 8, 64, 256]
    found = tables.crossovers(quick).dropna(subset=["crossover_m"])
    if len(found):
        diamond = next(line for line in ax.get_lines() if line.get_marker() == "D")
        assert math.isclose(diamond.get_xdata()[0], found["crossover_m_over_n"].iloc[0])


def test_a_full_grid_is_a_heat_map_of_equal_cells(quick):
    at64 = quick[(quick["n"] == 64) & (quick["depth"] == 2)]
    grid = pd.concat([at64, at64.assign(n=128, time_median_s=at64["time_median_s"] * 3)])
    fig = plots.crossover_heatmap(grid)
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (2, 4)
    corners = mesh.get_coordinates()
    assert np.allclose(np.diff(corners[0, :, 0]), 1.0)  # equal cells, values as tick labels
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "8", "64", "256"]


def test_time_vs_chunk_one_line_over_the_chunks(quick):
    fig = plots.time_vs_chunk(quick)
    (ax,) = fig.axes
    measured = next(line for line in ax.get_lines() if line.get_label().startswith("measured"))
    assert list(measured.get_xdata()) == [1, 4, 16, 64]
    assert any(label == "default chunk" for label in _labels(fig))
    assert "chunk" in ax.get_xlabel()


# --- what the results cannot support ---------------------------------------------------------


@pytest.mark.parametrize("column, name, says", [
    ("j_over_f", "j_over_f_vs_n", "J/F vs n: results lack column j_over_f"),
    ("madds_predicted", "time_vs_madds",
     "time vs predicted work: results lack column madds_predicted"),
    ("bytes_counted", "memory_vs_depth", "memory vs depth: results lack column bytes_counted"),
    ("chunk", "time_vs_chunk", "time vs chunk: results lack column chunk"),
    ("time_median_s", "time_vs_n", "time vs n: results lack column time_median_s"),
])
def test_a_missing_column_skips_its_figure(results, tmp_path, capsys, column, name, says):
    df = pd.read_csv(results / "points.csv").drop(columns=[column])
    folder = _write(tmp_path, df)
    assert main(["plot", str(folder), "--why"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"skipped: {says}" in lines and len(lines) == len(plots.FIGURES)
    assert main(["plot", str(folder)]) == 0  # without --why: one line names them all
    quiet = capsys.readouterr().out.splitlines()
    rest = " ".join(ln.strip() for ln in quiet if not ln.startswith("saved: "))
    assert rest.startswith("not drawn") and rest.count("not drawn") == 1
    assert plots.FIGURES[name].label in rest
    assert all(len(ln) <= 100 for ln in quiet if not ln.startswith("saved: "))  # paths may not
    drawn = {p.stem for p in (folder / "figures").glob("*.png")}
    assert name not in drawn
    if column != "time_median_s":  # every timing figure needs that one
        assert drawn == set(NAMES) - {name}


@pytest.mark.parametrize("keep, name, says", [
    (lambda d: d[d["n"] == 64], "time_vs_n", "needs ≥ 3 sizes of n in one series"),
    (lambda d: d[d["n"] == 64], "j_over_f_vs_n", "needs ≥ 2 sizes of n with m = 1"),
    (lambda d: d[d["depth"] == 2], "memory_vs_depth", "needs ≥ 2 depths of one mode"),
    (lambda d: d[d["mode"] == "forward"], "crossover_heatmap", "needs forward and reverse"),
    (lambda d: d[d["m"] == 1], "crossover_heatmap", "needs forward and reverse times at ≥ 2 "
                                                    "values of m for one n"),
    (lambda d: d[d["chunk_spec"].astype(str) == "default"], "time_vs_chunk",
     "needs forward-mode times at ≥ 2 chunk sizes"),
    (lambda d: d[d["mode"] == "reverse"], "time_vs_chunk", "needs forward-mode times"),
    (lambda d: d.head(2), "time_vs_madds", "needs ≥ 3 measured points of one engine"),
])
def test_too_little_data_skips_with_the_reason(quick, keep, name, says):
    spec = plots.FIGURES[name]
    with pytest.raises(plots.CannotPlot, match=f"^{spec.label}: {says}"):
        spec.draw(keep(quick))


def test_rows_that_did_not_finish_are_left_out(quick):
    """Skipped, timed-out and failed points carry no times; the figures ignore them."""
    bad = quick.head(3).assign(status=["skipped", "timeout", "failed"], time_median_s=np.nan,
                               j_over_f=np.nan, bytes_measured=np.nan, n=4096)
    for name in NAMES:
        plots.FIGURES[name].draw(pd.concat([quick, bad], ignore_index=True))
    assert plots.time_vs_n(pd.concat([quick, bad])).axes[0].get_xlim()[1] < 4096


# --- the command line ------------------------------------------------------------------------


def test_cli_plot_saves_into_figures(results, capsys):
    assert main(["plot", str(results)]) == 0
    out = capsys.readouterr().out.splitlines()
    saved = [line for line in out if line.startswith("saved: ")]
    assert saved == [f"saved: {results / 'figures' / name}.png" for name in NAMES]
    rest = " ".join(line.strip() for line in out if not line.startswith("saved: "))
    assert rest.startswith("not drawn") and rest.count("not drawn") == 1  # the rest, once
    for name in NAMES:
        assert (results / "figures" / f"{name}.png").stat().st_size > 1000


def test_cli_plot_format_and_out(results, tmp_path):
    assert main(["plot", str(results), "--format", "svg", "--out", str(tmp_path / "svg")]) == 0
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == sorted(f"{n}.svg" for n in NAMES)
    assert not (results / "figures").exists()


@pytest.mark.parametrize("where, says", [
    ("missing", "no such results directory"),
    ("empty", "not a results directory"),
])
def test_cli_plot_not_a_results_directory(tmp_path, capsys, where, says):
    (tmp_path / "empty").mkdir()
    assert main(["plot", str(tmp_path / where)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainbench: error:") and says in err and len(err.splitlines()) == 1


def test_cli_plot_out_is_a_file(results, tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["plot", str(results), "--out", str(tmp_path / "taken")]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def test_an_empty_out_is_refused_not_taken_for_the_current_folder(results, tmp_path,
                                                                  monkeypatch, capsys):
    here = tmp_path / "here"  # run's own: tests/test_harness_robustness.py
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(SystemExit) as exit_:
        main(["plot", str(results), "--out", ""])
    assert exit_.value.code == 2 and "an empty path" in capsys.readouterr().err
    assert list(here.iterdir()) == []


def test_cli_plot_rejects_an_unknown_format(results):
    with pytest.raises(SystemExit) as exit_:
        main(["plot", str(results), "--format", "gif"])
    assert exit_.value.code == 2


def test_run_with_plot_draws_after_the_sweep(results, monkeypatch, capsys):
    """`run --plot` draws into the results folder; the sweep itself is stubbed out."""
    monkeypatch.setattr(sweep, "run", lambda *args, **kwargs: ResultsDir(results))
    assert main(["run", "quick", "--out", str(results), "--quiet", "--plot"]) == 0
    out = capsys.readouterr().out
    assert f"saved: {results / 'figures' / 'time_vs_n.png'}" in out
    assert len(list((results / "figures").glob("*.png"))) == len(NAMES)


def test_no_pyplot_and_no_matplotlib_at_import(tmp_path):
    code = ("import sys, chainbench, chainbench.cli\n"
            "assert 'matplotlib' not in sys.modules, 'chainbench imports matplotlib'\n"
            "from chainbench import plots\n"
            "from chainbench.harness.storage.points_csv import load_points\n"
            f"plots.render_all(load_points({str(QUICK)!r}), {str(tmp_path)!r})\n"
            "assert 'matplotlib.pyplot' not in sys.modules, 'the figures use pyplot'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_time_vs_madds_shows_the_time_model_where_rows_carry_it():
    reference = load_points(Path(__file__).parents[1] / "results" / "quick")
    assert "time_predicted_s" in reference.columns
    left = plots.time_vs_madds(reference).axes[0]
    assert left.get_title() == "measured vs the time model's prediction"
    assert any("median |ln|" in t.get_text() for t in left.get_legend().get_texts())


def test_every_mode_has_a_look_of_its_own():
    """One look per mode, the same in every figure: no two registered modes share one."""
    from chainbench.engines.registry import ENGINES
    from chainbench.plots.palette import look

    looks = {mode: look(mode) for mode in [*ENGINES, "auto"]}
    seen = {}
    for mode, lk in looks.items():
        key = (lk.color, lk.marker, lk.filled, lk.ls)
        assert key not in seen, f"{mode} looks like {seen.get(key)}"
        seen[key] = mode
    assert looks["forward"].family == "ad" and looks["jax-jacrev"].family == "peer"
    assert not looks["torch-compile-jacrev"].filled  # peers: hollow, in print too
