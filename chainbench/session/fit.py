"""The fitted figures of a results table, as ``chainbench fit`` computes and saves them:
exponents with 95 % intervals, R² against the cost model, crossovers, the time model's
errors and auto's regret (``harness.analysis.tables.summary``), kept together in a ``Fit``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import ConfigError
from . import html

FITS = "fits.json"


class Fit:
    """The fitted figures of one results table, one DataFrame per kind.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        ``harness.analysis.tables.summary``'s tables: ``exponents``, ``cost_fit``, ``crossovers``,
        ``prediction_error``, ``auto_regret``; each is also an attribute (``fit.exponents``).
    """

    def __init__(self, tables: dict):
        self.tables = dict(tables)

    def __getattr__(self, name: str):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"Fit has no table {name!r}; tables: {', '.join(tables)}")

    def __getitem__(self, name: str):
        return self.tables[name]

    def exponent(self, mode: str) -> float:
        """The fitted exponent of ``mode``'s one trusted series (NaN if it has none).

        Parameters
        ----------
        mode : str
            The mode whose series to read, e.g. ``"forward"``.

        Raises
        ------
        ConfigError
            ``mode`` has several series (pick from ``fit.exponents`` instead).
        """
        table = self.tables["exponents"]
        rows = table[table["mode"] == mode] if len(table) else table
        if len(rows) > 1:
            raise ConfigError(f"{mode!r} has {len(rows)} fitted series; read the one you "
                              "want from fit.exponents")
        return float(rows["exponent"].iloc[0]) if len(rows) else math.nan

    def to_json(self) -> str:
        """The text ``chainbench fit`` saves as fits.json: every table, every column."""
        return json.dumps({k: v.to_dict(orient="records") for k, v in self.tables.items()},
                          indent=2, default=float) + "\n"

    def save(self, folder) -> Path:
        """Write fits.json into ``folder`` (a results folder); returns its path.

        Parameters
        ----------
        folder : str or path-like
            Where fits.json goes.
        """
        out = Path(folder) / FITS
        try:
            out.write_text(self.to_json())
        except OSError as err:
            raise ConfigError(f"{out}: cannot save the fits ({err.strerror or err}); make "
                              f"{Path(folder)} writable") from None
        return out

    def __repr__(self) -> str:
        return f"<Fit: {', '.join(f'{k} ({len(v)} rows)' for k, v in self.tables.items())}>"

    def _repr_html_(self) -> str:
        shown = {"exponents": ["mode", "m_rule", "depth", "exponent", "ci_low", "ci_high",
                               "points", "n_from", "n_to", "regime", "trusted", "note"]}
        parts = []
        for title, table in self.tables.items():
            if not len(table):
                continue
            cols = [c for c in shown.get(title, table.columns) if c in table.columns]
            parts.append(html.heading(title) + html.frame(table[cols]))
        return "".join(parts) or html.heading("Fit", "not enough points for any figure")


def fit(points) -> Fit:
    """The fitted figures of a points table (``Results.points``), as ``chainbench fit``.

    Parameters
    ----------
    points : pandas.DataFrame
        points.csv as ``harness.analysis.tables.load`` reads it (with the machine profile in
        ``attrs``, from which the fit ranges come).
    """
    from ..harness.analysis.tables import summary

    return Fit(summary(points))
