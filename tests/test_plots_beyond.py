"""The figures of mixed and checkpointed modes, drawn from committed results
(tests/fixtures/beyond, a tiny bracketing and checkpointing sweep): no benchmarking here."""

import math
from pathlib import Path

import pandas as pd
import pytest

from chainbench import plots
from chainbench.plots import CannotPlot

BEYOND = Path(__file__).parent / "fixtures" / "beyond"
QUICK = Path(__file__).parent / "fixtures" / "quick"


@pytest.fixture(scope="module")
def beyond() -> pd.DataFrame:
    return pd.read_csv(BEYOND / "points.csv")


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().texts]


def test_checkpoint_tradeoff_has_every_mode_and_labelled_snapshots(beyond):
    fig = plots.checkpoint_tradeoff(beyond)
    (ax,) = fig.axes
    labels = _legend(ax)
    for mode in ("forward", "reverse", "revolve (s = snapshots)",
                 "sqrt-checkpoint (s = snapshots)"):
        assert mode in labels
    notes = {t.get_text() for t in ax.texts}
    assert {"s=1", "s=2"} <= notes
    assert "time" in ax.get_xlabel() and "memory" in ax.get_ylabel()
    assert fig.get_suptitle()


def test_bracketing_speedup_reports_measured_and_predicted_gain(beyond):
    fig = plots.bracketing_speedup(beyond)
    times, gains = fig.axes
    assert _legend(times) == ["forward (measured)", "reverse (measured)", "optimal (measured)"]
    assert not times.patches and times.get_yscale() == "log"  # points, no bars on a log axis
    rows = beyond[beyond["widths"] == "200-200-2-200-200"].set_index("mode")
    predicted = min(rows.loc["forward", "madds_predicted"],
                    rows.loc["reverse", "madds_predicted"]) / rows.loc["optimal", "madds_predicted"]
    shown = {line.get_label(): line.get_ydata()[0] for line in gains.get_lines()
             if line.get_label().startswith("optimal")}
    assert math.isclose(shown["optimal (predicted)"], predicted, rel_tol=1e-9)
    measured = min(rows.loc["forward", "time_median_s"],
                   rows.loc["reverse", "time_median_s"]) / rows.loc["optimal", "time_median_s"]
    assert math.isclose(shown["optimal (measured)"], measured, rel_tol=1e-9)
    assert "1×" in [t.get_text() for t in gains.get_yticklabels()]  # a ratio axis


def test_bracketing_sets_predicted_times_beside_measured_ones(beyond):
    rows = beyond.assign(time_predicted_s=beyond["time_median_s"] * 0.8)
    times, _ = plots.bracketing_speedup(rows).axes
    assert "optimal (predicted)" in _legend(times)


@pytest.mark.parametrize("name, says", [
    ("checkpoint_tradeoff", "needs checkpointed reverse-mode times"),
    ("bracketing_speedup", "needs optimal-mode and pure-mode times on the same chain"),
])
def test_sweeps_without_those_modes_skip_with_the_reason(name, says):
    quick = pd.read_csv(QUICK / "points.csv")
    with pytest.raises(CannotPlot, match=says):
        plots.FIGURES[name].draw(quick)


def test_render_all_saves_both(beyond, tmp_path):
    report = {name: path for name, path, _ in plots.render_all(beyond, tmp_path, "png")}
    for name in ("checkpoint_tradeoff", "bracketing_speedup"):
        assert report[name] is not None and report[name].stat().st_size > 1000


def _with_predictions(quick: pd.DataFrame, wrong: bool) -> pd.DataFrame:
    """The quick rows with a predicted time: the measured one, or (``wrong``) the other pure
    mode's, so the time model's pick is always the slower mode."""
    chain = ["n", "m", "depth", "width", "activation", "seed", "chunk_spec"]
    other = quick.assign(mode=quick["mode"].map({"forward": "reverse", "reverse": "forward"}))
    swapped = quick.merge(other[[*chain, "mode", "time_median_s"]], on=[*chain, "mode"],
                          how="left", suffixes=("", "_other"))["time_median_s_other"]
    return quick.assign(time_predicted_s=swapped.to_numpy() if wrong else quick["time_median_s"])


@pytest.mark.parametrize("wrong", [False, True])
def test_auto_regret_is_the_pick_over_the_fastest(wrong):
    from chainbench.harness.analysis.tables import regrets

    quick = pd.read_csv(QUICK / "points.csv")
    rows = _with_predictions(quick, wrong)
    table = regrets(rows)
    default = quick[quick["chunk_spec"].astype(str) == "default"]
    both = default.groupby(["n", "m", "depth"])["mode"].nunique()
    assert len(table) == int((both == 2).sum())  # every chain measured in both pure modes
    if wrong:
        assert (table["pick"] != table["fastest"]).all() and (table["ratio"] > 1).all()
    else:
        assert (table["ratio"] == 1).all()
    fig = plots.auto_regret(rows)
    (ax,) = fig.axes
    plotted = sorted(y for c in ax.collections for _, y in c.get_offsets())
    assert plotted == pytest.approx(sorted(table["ratio"]))
    picks_wrong = int((table["pick"] != table["fastest"]).sum())
    assert f"{picks_wrong} picks not the fastest" in ax.get_title()


def test_auto_regret_needs_predicted_times():
    with pytest.raises(CannotPlot, match="auto's regret: .*time_predicted_s"):
        plots.auto_regret(pd.read_csv(QUICK / "points.csv"))
