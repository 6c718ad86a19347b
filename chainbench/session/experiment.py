"""``cb.Experiment``: an experiment built in Python with the fields of an experiment TOML
file, validated by the same code (``harness.experiment.config.build``), so a bad field raises the
``ConfigError`` the command line prints for the same mistake in a file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from ..harness.experiment import config
from . import html


class Experiment:
    """A grid of chains and modes to measure, as an experiment TOML file defines one.

    Parameters
    ----------
    name : str, default "experiment"
        The experiment's name: a plain folder name, its results go to ``results/NAME``.
    description : str, optional
        One line saying what the experiment shows.
    grid : dict or list of dict, optional
        The ``[grid]`` table (or several ``[[grid]]`` tables) as dicts; leave it out and
        give a single grid's keys as keyword arguments instead.
    measure : dict, optional
        The ``[measure]`` table: how each point is timed and guarded (``min_samples``,
        ``budget_s``, ``memory``, ``check``, …; see docs/experiments.md).
    **grid_keys
        The keys of one grid: ``n`` (required), ``m``, ``depth``, ``width``, ``activation``,
        ``seed``, ``modes``, ``chunk``, ``snapshots``, ``layers``. A value may be one item
        or a list (a tuple, range or NumPy array is taken as a list).

    Raises
    ------
    ConfigError
        A field a TOML file could not have either; the message is the command line's.

    Examples
    --------
    >>> import chainbench as cb
    >>> exp = cb.Experiment("tiny", n=[8, 16, 32], depth=2, modes=["forward", "reverse"],
    ...                     measure={"min_samples": 3, "max_seconds": 0.2})
    >>> len(exp.points())
    6
    """

    def __init__(self, name: str = "experiment", description: str = "", *, grid=None,
                 measure=None, **grid_keys):
        if grid is not None and grid_keys:
            raise ConfigError(f"Experiment({name!r}): give the grid either as grid=... or as "
                              f"keyword arguments ({', '.join(grid_keys)}), not both")
        grid = grid_keys if grid is None else grid
        data = {"name": name, "description": description, "grid": _plain(grid)}
        if measure is not None:
            data["measure"] = _plain(measure)
        spec = config.build(data, "", f"Experiment({name!r})")  # raises what a file would
        self.spec = replace(spec, source=to_toml(data), path="")

    @classmethod
    def load(cls, path_or_name) -> Experiment:
        """Read an experiment TOML file, or a shipped experiment by name.

        Parameters
        ----------
        path_or_name : str or path-like
            A file's path, or the name of a shipped experiment (``chainbench list``).

        Returns
        -------
        Experiment
        """
        if not isinstance(path_or_name, str | Path):
            raise TypeError("Experiment.load: give a TOML file's path or a shipped "
                            f"experiment's name, not {type(path_or_name).__name__}")
        return cls.wrap(config.resolve(str(path_or_name)))

    @classmethod
    def wrap(cls, spec: config.Experiment) -> Experiment:
        """The public face of a ``harness.experiment.config.Experiment`` (already validated)."""
        self = cls.__new__(cls)
        self.spec = spec
        return self

    @property
    def name(self) -> str:
        """The experiment's name (its results folder's default name)."""
        return self.spec.name

    @property
    def description(self) -> str:
        """One line saying what the experiment shows."""
        return self.spec.description

    @property
    def grids(self) -> tuple:
        """The validated grids (``harness.experiment.config.Grid``)."""
        return self.spec.grids

    @property
    def measure(self):
        """How each point is measured (``harness.experiment.config.Measure``)."""
        return self.spec.measure

    @property
    def toml(self) -> str:
        """The experiment as TOML text: save it to run the same sweep from the command line."""
        return self.spec.source

    def points(self) -> list:
        """Every point (one chain and one mode) of the experiment, each once, in grid order."""
        return self.spec.points()

    def __repr__(self) -> str:
        return f"<Experiment {self.name!r}: {len(self.points())} points>"

    def _repr_html_(self) -> str:
        rows = [("points", len(self.points()))]
        for k, grid in enumerate(self.grids):
            label = "grid" if len(self.grids) == 1 else f"grid {k + 1}"
            rows += [(f"{label}.{key}", value) for key, value in vars(grid).items() if value]
        return html.heading(f"Experiment {self.name!r}", self.description) + html.pairs(rows)


def _plain(value):
    """``value`` with tuples, ranges and arrays made lists and NumPy scalars Python ones, as
    a TOML file would give them; anything else unchanged, for the validation to judge."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | range) or type(value).__name__ == "ndarray":
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def to_toml(data: dict) -> str:
    """The TOML text of a validated experiment's fields (the text its hash is taken of)."""
    lines = [f"{key} = {_value(data[key])}" for key in ("name", "description") if key in data]
    grids = data["grid"] if isinstance(data["grid"], list) else [data["grid"]]
    header = "[grid]" if isinstance(data["grid"], dict) else "[[grid]]"
    for grid in grids:
        lines += ["", header, *(f"{k} = {_value(v)}" for k, v in grid.items())]
    if data.get("measure"):
        lines += ["", "[measure]", *(f"{k} = {_value(v)}" for k, v in data["measure"].items())]
    return "\n".join(lines) + "\n"


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(_value, v)) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    return repr(v)
