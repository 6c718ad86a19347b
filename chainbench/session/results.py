"""``cb.load(path)``: a results folder as ``Results`` — its points as a tidy DataFrame, its
meta.json, the tally of its points, and the fit, figures and HTML report the command line
makes of it. A folder whose run ended before its first row (interrupted, or stopped by an
error) opens too, with no points, so no run leaves a folder that cannot be opened."""

from __future__ import annotations

import io
from pathlib import Path

from ..errors import ConfigError
from . import html
from .fit import Fit, fit


class Results:
    """One results folder (points.csv and meta.json), read when opened.

    Parameters
    ----------
    path : str or path-like
        The results folder (``chainbench run``'s ``--out``, or ``cb.run``'s ``out``).

    Raises
    ------
    ConfigError
        Not a results folder, or one whose files are damaged; the message says what to do.
    """

    def __init__(self, path):
        from ..harness.analysis.tables import load as load_points
        from ..harness.storage.results import ResultsDir

        self.path = Path(path)
        if self.path.is_file() and self.path.name == "points.csv":  # its folder, then
            self.path = self.path.parent
        self.folder = ResultsDir(self.path)
        if self.path.is_dir() and self.folder.meta_file.exists() and _no_rows(self.folder):
            self.meta = self.folder.read_meta()  # raises if damaged
            self.points = _empty_points()
        else:
            self.points = load_points(self.path)
            self.meta = self.folder.read_meta()

    @property
    def name(self) -> str:
        """The experiment the folder holds (meta.json's name, else the folder's)."""
        return str(self.meta.get("experiment") or self.path.name)

    @property
    def tally(self) -> dict:
        """How many points ended ok, timeout, skipped and failed, and why the others did not
        end ok, grouped by cause (``problems``)."""
        from ..harness.analysis.tables import tally

        return tally(self.points)

    @property
    def warning(self) -> str | None:
        """One line naming the damaged rows left out of ``points``, or None."""
        from ..harness.storage.points_csv import damaged_warning

        return damaged_warning(self.points, self.path)

    def fit(self, save: bool = False) -> Fit:
        """The fitted figures, as ``chainbench fit`` prints them.

        Parameters
        ----------
        save : bool, default False
            Also write them to the folder's fits.json, as ``chainbench fit`` does.

        Returns
        -------
        Fit
            Exponents with 95 % intervals, cost-model R², crossovers, the time model's
            errors and auto's regret, one DataFrame each.
        """
        result = fit(self.points)
        if save:
            result.save(self.path)
        return result

    def figures(self) -> list[str]:
        """The names of the figures these results can draw (in drawing order)."""
        from ..plots import FIGURES, CannotPlot

        names = []
        for name, spec in FIGURES.items():
            try:
                spec.draw(self.points)
            except CannotPlot:
                continue
            names.append(name)
        return names

    def plot(self, name: str | None = None):
        """A figure of the results, or every figure they support; pyplot is not touched.

        Parameters
        ----------
        name : str, optional
            The figure to draw (``chainbench plot`` saves it as NAME.png), e.g.
            ``"time_vs_n"``; None draws every figure the results can support.

        Returns
        -------
        matplotlib.figure.Figure or dict of str to Figure
            The figure named, or every drawable figure by name.

        Raises
        ------
        ConfigError
            An unknown figure name, or results that lack what the figure needs.
        """
        from ..plots import FIGURES, CannotPlot

        if name is None:
            out = {}
            for key, spec in FIGURES.items():
                try:
                    out[key] = spec.draw(self.points)
                except CannotPlot:
                    continue
            return out
        if name not in FIGURES:
            raise ConfigError(f"unknown figure {name!r}; one of {', '.join(FIGURES)}")
        try:
            return FIGURES[name].draw(self.points)
        except CannotPlot as err:
            raise ConfigError(str(err)) from None

    def save_figures(self, out=None, format: str = "png") -> list:
        """Draw and save every figure the results support, as ``chainbench plot`` does.

        Parameters
        ----------
        out : str or path-like, optional
            Folder to save into (default: the results folder's figures/).
        format : {"png", "svg", "pdf"}, default "png"
            File format.

        Returns
        -------
        list of (name, path or None, message)
            One entry per figure; the path is None, and the message says why, for a figure
            the results cannot support.
        """
        return save_figures(self.points, out or self.path / "figures", format)

    def report(self, path=None) -> Path:
        """Write the self-contained HTML report of the results, as ``chainbench report``.

        Parameters
        ----------
        path : str or path-like, optional
            The file to write (default: report.html in the results folder).

        Returns
        -------
        pathlib.Path
            Where the report was written.
        """
        from ..report import write_report

        return write_report([self.path], path)

    def __repr__(self) -> str:
        return f"<Results {self.name!r} in {self.path}: {len(self.points)} rows>"

    def _repr_html_(self) -> str:
        from ..harness.analysis.tables import STATUSES, exponents

        t = self.tally
        rows = [("folder", self.path), ("rows", len(self.points)),
                *((s, t.get(s, 0)) for s in STATUSES)]
        rows += [(f"{p['status']} ×{p['count']}", f"{p['points']}: {p['reason']}")
                 for p in t["problems"]]
        table = exponents(self.points) if len(self.points) else None
        fitted = ""
        if table is not None and len(table):
            cols = [c for c in ("mode", "m_rule", "depth", "exponent", "ci_low", "ci_high",
                                "n_from", "n_to", "trusted") if c in table.columns]
            fitted = html.heading("exponents") + html.frame(table[cols])
        return html.heading(f"Results {self.name!r}", self.meta.get("description", "")) \
            + html.pairs(rows) + fitted


def load(path) -> Results:
    """Open a results folder written by ``cb.run`` or ``chainbench run``.

    Parameters
    ----------
    path : str or path-like
        The results folder.

    Returns
    -------
    Results

    Raises
    ------
    ConfigError
        No such folder, not a results folder, or damaged files; the command line's words.
    TypeError
        ``path`` is not a path.
    """
    if not isinstance(path, str | Path):
        raise TypeError(f"load: give a results folder's path, not {type(path).__name__}")
    return Results(path)


def save_figures(points, out, fmt: str = "png") -> list:
    """``plots.render_all`` into ``out``, a folder that cannot be written a ConfigError."""
    from ..plots import render_all

    try:
        return render_all(points, out, fmt)
    except OSError as err:
        where = err.filename or out
        raise ConfigError(f"{where}: cannot save the figures ({err.strerror or err}); "
                          "give a writable folder with --out") from None


def _no_rows(folder) -> bool:
    """True when points.csv is missing, or holds at most its header."""
    from ..harness.storage.points_csv import scan

    if not folder.points_file.exists():
        return True
    try:
        found = scan(folder.points_file)
    except OSError:  # load_points says so in its words
        return False
    return not found.foreign and not found.rows and not found.damaged


def _empty_points():
    import pandas as pd

    from ..harness.storage.points_csv import HEADER

    df = pd.read_csv(io.StringIO(HEADER))
    df.attrs["damaged"] = []
    return df
