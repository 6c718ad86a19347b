"""Experiment definitions: TOML files naming a grid of chains and modes, validated and
expanded into points. Every bad key or value raises ConfigError naming the field."""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from ...api import MODES
from ...engines.registry import ENGINES
from ...errors import ConfigError
from ...model.chain import ChainShape
from ...model.layers import LAYERS
from .numbers import check_float
from .second import FIRST, ORDERS, QUANTITIES, SECOND_MODES, check_grid, quantities
from .templates import render, template_shape

WIDTH_PROFILES = ("square", "hourglass")
# "none": dense layers only, the chains of the bracketing literature
ACTIVATIONS = (*(name for name, cls in LAYERS.items() if not cls.arguments), "none")


@dataclass(frozen=True)
class Grid:
    """What to sweep: every combination of these is one point (per mode and chunk)."""

    n: tuple[int, ...]
    m: tuple[int | str, ...] = (1,)  # an integer, or "n" for m = n
    depth: tuple[int, ...] = (4,)  # hidden [dense, activation] blocks before the output dense
    width: tuple = ("square",)  # hidden width: integer, profile name, or explicit list
    activation: tuple[str, ...] = ("tanh",)
    seed: tuple[int, ...] = (0,)
    modes: tuple[str, ...] = ("forward", "reverse")
    chunk: tuple[int | str, ...] = ("default",)  # forward lanes per sweep: int, "default", "n"
    snapshots: tuple[int | str, ...] = ("default",)  # checkpointed modes: int or "default"
    layers: tuple[str, ...] = ()  # whole chains instead of the above: templates (``render``)
    order: tuple[int, ...] = (1,)  # 1: Jacobians; 2: Hessians or HVPs (``quantity``)
    quantity: tuple[str, ...] = ()  # order 2: "hessian", "hvp" (default: "hessian")


@dataclass(frozen=True)
class Measure:
    """How each point is measured and guarded."""

    min_sample_ms: float = 10.0  # a sample repeats the call until this much time has passed
    min_samples: int = 5
    min_seconds: float = 0.2  # keep sampling at least this long (once min_samples are in)
    max_seconds: float = 2.0  # stop sampling after this long, whatever the count
    budget_s: float = 30.0  # per-point budget: skip points predicted slower, stop series after
    memory: bool = True  # independent memory measurement (tracemalloc peak of one call)
    check: bool = True  # compare the Jacobian with the other mode before timing
    check_tol: float = 1e-8  # relative to the largest Jacobian entry
    sparse_output: bool = False  # modes that can (the sparse ones) return J as scipy.sparse

    def __post_init__(self) -> None:
        # built from a file (``parse``) or in Python: no NaN, infinity or value out of range
        # may switch a guard off or make a loop endless
        for name, (low, high) in MEASURE_RANGES.items():
            check_float(f"measure.{name}", getattr(self, name), low, high)


#: The range of each number of [measure] that takes a fraction, (low, high]: low excluded,
#: high included. Times are capped so that no setting can keep a point measuring for hours.
MEASURE_RANGES = {
    "min_sample_ms": (0.0, 60_000.0),   # a sample: up to a minute
    "min_seconds": (0.0, 3600.0), "max_seconds": (0.0, 3600.0),  # sampling: up to an hour
    "budget_s": (0.0, 7 * 86400.0),     # one call: up to a week
    "check_tol": (0.0, 1.0),            # relative to J's largest entry
}


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    grids: tuple[Grid, ...]  # one [grid] table, or several [[grid]] tables
    measure: Measure
    source: str = ""  # the file's text, hashed into meta.json
    path: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def points(self) -> list[Point]:
        """Every point of every grid, each once, in grid order."""
        return list(dict.fromkeys(p for grid in self.grids for p in expand(grid)))


@dataclass(frozen=True)
class Point:
    """One chain and one way to differentiate it."""

    n: int
    m: int
    depth: int
    width: str  # as given in the grid (profile, integer or list), for grouping
    widths: tuple[int, ...] = field(compare=False)
    activation: str = "tanh"
    seed: int = 0
    mode: str = "reverse"
    chunk: str = "default"  # as given; resolved to an integer when measured
    snapshots: str = "default"  # checkpointed modes: as given
    layers: str = field(default="", compare=False)  # a grid's chain template; then also width
    quantity: str = FIRST  # "jacobian", or at order 2 "hessian" or "hvp" (``second``)

    @property
    def spec(self) -> str:
        if self.layers:
            return render(self.layers, self.n)
        act = "" if self.activation == "none" else f" {self.activation}"
        hidden = " ".join(f"dense:{w}{act}" for w in self.widths[1:-1])
        return f"{hidden} dense:{self.m}".strip()

    @property
    def shape(self) -> ChainShape:
        return ChainShape.from_spec(self.spec, self.n)

    @property
    def key(self) -> tuple:
        """The point's identity: its fields but ``widths`` (``POINT_KEY``), the ones that make
        two points equal. points.csv holds it (``row.KEY_COLUMNS``); --resume skips a point
        whose key has a row."""
        return tuple(getattr(self, name) for name in POINT_KEY)

    @property
    def kind(self) -> tuple:
        """What a warm-up compiles for: mode, chunk, snapshots, activation and quantity."""
        return (self.mode, self.chunk, self.snapshots, self.activation, self.quantity)

    @property
    def series(self) -> str:
        """Everything but the sizes: points of one series differ only in n (and m)."""
        # first order's series read as before; a second-order one starts with its quantity
        what = "" if self.quantity == FIRST else f"{self.quantity}|"
        return (f"{what}{self.mode}|{self.chunk}|{self.snapshots}|d{self.depth}|{self.width}|"
                f"{self.activation}|s{self.seed}")


#: The fields of a point's key (``Point.key``), in order.
POINT_KEY = tuple(f.name for f in fields(Point) if f.compare)


def hidden_widths(n: int, depth: int, width) -> tuple[int, ...]:
    if isinstance(width, list | tuple):
        return tuple(width)
    if isinstance(width, int):
        return (width,) * depth
    if width == "square":
        return (n,) * depth
    if width == "hourglass":  # n … n, a bottleneck of n/100 in the middle, n … n
        return tuple(max(1, n // 100) if k == depth // 2 else n for k in range(depth))
    raise ConfigError(f"grid.width: unknown profile {width!r}; use an integer, a list of "
                      f"integers, or one of {', '.join(WIDTH_PROFILES)}")


#: Hidden blocks a chain of a grid may have: its widths are a tuple of this length.
MAX_DEPTH = 10_000
#: Points an experiment may hold: counted before expanding, not after filling the memory.
MAX_POINTS = 100_000


def count(grid: Grid) -> int:
    """How many points ``expand(grid)`` makes, without making them."""
    sizes = (len(grid.layers),) if grid.layers else \
        (len(grid.m), len(grid.depth), len(grid.width), len(grid.activation))
    per_mode = sum((len(grid.chunk) if _chunk_varies(mode) else 1)
                   * (len(grid.snapshots) if _takes_snapshots(mode) else 1)
                   for mode in grid.modes)
    return math.prod(sizes) * len(grid.n) * len(grid.seed) * per_mode * len(quantities(grid))


def expand(grid: Grid) -> list[Point]:
    if grid.layers:
        return _expand_templates(grid)
    points = []
    for n, m, depth, width, act, seed, quantity in itertools.product(
        grid.n, grid.m, grid.depth, grid.width, grid.activation, grid.seed, quantities(grid)
    ):
        m_ = n if m == "n" else m
        hidden = hidden_widths(n, depth, width)
        label = "-".join(map(str, width)) if isinstance(width, list | tuple) else str(width)
        depth_ = len(hidden)
        for mode in grid.modes:
            chunks = grid.chunk if _chunk_varies(mode) else ("default",)
            snaps = grid.snapshots if _takes_snapshots(mode) else ("default",)
            for chunk, snap in itertools.product(chunks, snaps):
                points.append(Point(n, m_, depth_, label, (n, *hidden, m_), act, seed, mode,
                                    str(chunk), str(snap), quantity=quantity))
    return points


def _expand_templates(grid: Grid) -> list[Point]:
    """The points of a grid of chain templates: each template at each n, the template also
    its width label (so that it is part of the point's key), activation 'none'."""
    points = []
    for template, n, seed, quantity in itertools.product(grid.layers, grid.n, grid.seed,
                                                         quantities(grid)):
        shape = template_shape(template, n)
        for mode in grid.modes:
            chunks = grid.chunk if _chunk_varies(mode) else ("default",)
            snaps = grid.snapshots if _takes_snapshots(mode) else ("default",)
            for chunk, snap in itertools.product(chunks, snaps):
                points.append(Point(n, shape.m, shape.depth, template, shape.widths, "none",
                                    seed, mode, str(chunk), str(snap), layers=template,
                                    quantity=quantity))
    return points


# --- loading and validation -------------------------------------------------------------


def _chunk_varies(mode: str) -> bool:
    """Whether the grid's chunk axis applies to ``mode``: engines whose chunk counts input
    directions (forward mode's tangent lanes)."""
    return mode in ENGINES and ENGINES[mode].lanes == "n"


def _takes_snapshots(mode: str) -> bool:
    return mode in ENGINES and "snapshots" in ENGINES[mode].options


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list(section: str, key: str, value, check, what: str) -> tuple:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{section}.{key}: empty list; give at least one {what}")
    for v in values:
        if not check(v):
            raise ConfigError(f"{section}.{key}: {v!r} is not {what}")
    return tuple(values)


def _width_ok(v) -> bool:
    if _is_int(v):
        return v >= 1
    if isinstance(v, list):
        return bool(v) and all(_is_int(w) and w >= 1 for w in v)
    return v in WIDTH_PROFILES


_GRID_CHECKS = {
    "n": (lambda v: _is_int(v) and v >= 1, "an integer ≥ 1"),
    "m": (lambda v: (_is_int(v) and v >= 1) or v == "n", 'an integer ≥ 1 or "n"'),
    "depth": (lambda v: _is_int(v) and 0 <= v <= MAX_DEPTH, f"an integer from 0 to {MAX_DEPTH}"),
    "width": (_width_ok, f"an integer ≥ 1, a list of them, or one of {WIDTH_PROFILES}"),
    "activation": (lambda v: v in ACTIVATIONS, f"one of {', '.join(ACTIVATIONS)}"),
    "seed": (lambda v: _is_int(v) and v >= 0, "an integer ≥ 0"),
    # which modes a grid may name depends on its order and quantity: ``second.check_grid``
    "modes": (lambda v: v in MODES or v in SECOND_MODES,
              f"one of {', '.join(MODES)} (order 1) or {', '.join(SECOND_MODES)} (order 2)"),
    "chunk": (lambda v: (_is_int(v) and v >= 1) or v in ("default", "n"),
              'an integer ≥ 1, "default" or "n"'),
    "snapshots": (lambda v: (_is_int(v) and v >= 1) or v == "default",
                  'an integer ≥ 1 or "default"'),
    "layers": (lambda v: isinstance(v, str) and bool(v.strip()),
               'a chain template such as "conv:5 tanh grouped:{n}:{n/32}"'),
    "order": (lambda v: _is_int(v) and v in ORDERS, "1 (Jacobians) or 2 (Hessians, HVPs)"),
    "quantity": (lambda v: v in QUANTITIES, f"one of {', '.join(QUANTITIES)}"),
}
#: Grid keys a ``layers`` grid leaves out: its templates give the whole chain.
_NOT_WITH_LAYERS = ("m", "depth", "width", "activation")


def _section(raw, name: str, cls, checks) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    valid = [f.name for f in fields(cls)]
    for key in raw:
        if key not in valid:
            raise ConfigError(f"[{name}]: unknown key {key!r}; valid keys: {', '.join(valid)}")
    return {key: checks(key, value) for key, value in raw.items()}


def _check_grid(key, value):
    check, what = _GRID_CHECKS[key]
    return _list("grid", key, value, check, what)


def _check_measure(key, value):
    default = getattr(Measure(), key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"measure.{key}: {value!r} is not true or false")
        return value
    if isinstance(default, int):
        if not _is_int(value) or value < 1:
            raise ConfigError(f"measure.{key}: {value!r} is not an integer ≥ 1")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"measure.{key}: {value!r} is not a number")
    return float(value)  # its range: ``Measure.__post_init__``


TOP_KEYS = ("name", "description", "grid", "measure")
#: An experiment's name is the folder its results go to (results/NAME): a plain folder
#: name, never a path (".." or "a/b"), a hidden file, or an option ("-x").
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_name(name, what: str = "name") -> str:
    """``name`` if it is a plain folder name (``NAME``), else a ConfigError saying why."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(
            f"{what}: {name!r} is not a plain folder name (it names results/NAME); use up "
            "to 100 letters, digits, '.', '_' or '-', starting with a letter or digit, "
            "e.g. name = \"my_sweep\"")
    return name


def parse(text: str, path: str = "<string>") -> Experiment:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return build(data, text, path)


def build(data: dict, text: str, path: str) -> Experiment:
    """The experiment of a parsed TOML document ``data`` (``text``, read from ``path``,
    names it in every error), validated field by field."""
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; valid keys: {', '.join(TOP_KEYS)}")
    if "grid" not in data:
        raise ConfigError(f"{path}: missing [grid] table (it needs at least n = [...])")
    raw_grids = data["grid"] if isinstance(data["grid"], list) else [data["grid"]]
    grids = []
    for raw in raw_grids:
        grid_kw = _section(raw, "grid", Grid, _check_grid)
        if "n" not in grid_kw:
            raise ConfigError(f"{path}: [grid] needs n, e.g. n = [16, 32, 64]")
        clash = [key for key in _NOT_WITH_LAYERS if "layers" in grid_kw and key in grid_kw]
        if clash:
            raise ConfigError(f"{path}: [grid] with layers gives whole chains; leave out "
                              f"{', '.join(clash)}")
        check_grid(grid_kw, MODES, path)
        grids.append(Grid(**grid_kw))
    measure_kw = _section(data.get("measure", {}), "measure", Measure, _check_measure)
    # the file's name stands in for a missing one, made a plain folder name
    name = data.get("name") if "name" in data else (
        re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).stem).strip("._-")[:100] or "experiment")
    check_name(name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError("description: must be a string")
    total = sum(count(grid) for grid in grids)
    if total > MAX_POINTS:
        raise ConfigError(f"{path}: the grid makes {total} points, more than {MAX_POINTS}; "
                          "give fewer values (or split it into several experiments)")
    exp = Experiment(name, description, tuple(grids), Measure(**measure_kw), text, path)
    if not exp.points():
        raise ConfigError(f"{path}: the grid has no points")
    return exp


def load(path) -> Experiment:
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not an experiment file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such experiment file (see `chainbench list`)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    return parse(text, str(path))


SHIPPED = Path(__file__).resolve().parents[2] / "experiments"


def shipped() -> dict[str, Path]:
    """The experiments shipped inside the package, by name."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.toml"))}


def resolve(name_or_path: str | None) -> Experiment:
    """An experiment from a file path, or a shipped one by name; the quick one by default."""
    if name_or_path is None:
        return load(SHIPPED / "quick.toml")
    path = Path(name_or_path)
    if not path.exists() and name_or_path in shipped():
        return load(shipped()[name_or_path])
    return load(path)
