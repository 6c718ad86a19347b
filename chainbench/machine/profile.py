"""The machine profile: what ``chainbench calibrate`` measured on this machine (its rates
and memory levels, and chainbench's own costs on it, ``overheads``), cached in one file per
machine and read by runs (recorded in meta.json), fits (memory regimes), the time model and
the CI gate.

    from chainbench.machine.current import current_profile
    profile = current_profile()           # cached, or calibrated now (first use)
    profile.regime(8 * 2**20)             # 'L3', or 'L2→L3' where a working set straddles two
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .overheads import Overheads, stand_in

#: A working set within this factor of a level's capacity is in a transition between two
#: levels: bandwidth changes gradually there, so fits leave such points out.
EDGE = 1.5
#: A working set is on a level's plateau while the measured rate there is within this
#: factor of the level's bandwidth.
PLATEAU = 1.15
#: Where profiles are cached unless CHAINBENCH_PROFILE_DIR says otherwise.
PROFILE_DIR_ENV = "CHAINBENCH_PROFILE_DIR"
SCHEMA = 5
#: Schemas still read (a run's meta.json keeps the profile it was measured with); schema 1
#: had no ``lanes``, schemas 1 and 2 no ``overheads`` (they had a cache file of their own),
#: schemas 1–3 no ``curves``, schemas 1–4 no 'alloc-numpy' curve.
READABLE = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class MemoryLevel:
    """One level of the memory hierarchy as the streaming measurement sees it: ``name``
    ('L1', 'L2', … in the order found, the last one 'DRAM'), the working set up to which its
    bandwidth holds (``capacity_bytes``; None for the last, unbounded level) and that
    bandwidth in bytes per second."""

    name: str
    capacity_bytes: float | None
    bandwidth_Bps: float


@dataclass(frozen=True)
class MachineProfile:
    """Measured properties of one machine (see ``chainbench.machine.calibrate``).

    ``gemm`` holds (k, multiply-adds per second) of k×k matrix products, ``lanes`` (side, k,
    c, multiply-adds per second) of products with one side ('M', 'K' or 'N' of (M×K) @
    (K×N)) c and the other two k (c lanes through a layer), ``stream`` (working-set bytes,
    bytes per second) of matrix-vector products, all with one thread. ``overheads``:
    chainbench's own per-call, per-pass and per-rule costs (None until measured, see
    ``own_costs``).
    """

    key: dict
    created: str
    call_overhead_s: float
    gemm: tuple[tuple[int, float], ...]
    stream: tuple[tuple[float, float], ...]
    levels: tuple[MemoryLevel, ...]
    sysfs_caches: dict = field(default_factory=dict)
    calibration_s: float = 0.0
    extra: dict = field(default_factory=dict)
    lanes: tuple[tuple[str, int, int, float], ...] = ()
    overheads: Overheads | None = None
    curves: tuple[tuple[str, int, float, float], ...] = ()

    # --- reading ------------------------------------------------------------------------

    @property
    def own_costs(self) -> Overheads:
        """chainbench's own costs the time model prices: measured, or until then the stand-in
        of the bare call overhead (``measured`` False)."""
        return self.overheads or stand_in(self.call_overhead_s)

    @property
    def peak_madds_per_s(self) -> float:
        """The fastest GEMM rate measured (multiply-adds per second, one thread)."""
        return max(rate for _, rate in self.gemm)

    def level_of(self, nbytes: float) -> MemoryLevel:
        """The smallest level whose capacity holds ``nbytes`` (the last level otherwise)."""
        for level in self.levels:
            if level.capacity_bytes is None or nbytes <= level.capacity_bytes:
                return level
        return self.levels[-1]

    def bands(self, edge: float = EDGE) -> list[tuple[str, float, float]]:
        """(level name, smallest, largest working set) safely inside each level: at least
        ``edge`` × the capacity of the level below and at most the capacity / ``edge``, and
        narrowed further to where the measured streaming rate is within PLATEAU of the
        level's bandwidth (a cache keeps serving part of a working set somewhat larger than
        itself, so the rate settles on the next level's plateau only past that)."""
        out, low = [], 0.0
        for level in self.levels:
            high = float("inf") if level.capacity_bytes is None else level.capacity_bytes / edge
            low, high = self._on_plateau(level, low, high)
            if high > low:
                out.append((level.name, low, high))
            low = (level.capacity_bytes or float("inf")) * edge
        return out

    def _on_plateau(self, level: MemoryLevel, low: float, high: float) -> tuple[float, float]:
        """Above a level below it, ``low`` raised past the measured sizes still faster than
        this level's plateau (by more than PLATEAU); below a level above it, ``high``
        lowered past the sizes already slower than it. Scans from the edges inward."""
        inside = sorted((s, r) for s, r in self.stream if low <= s <= high)
        near_low = 4 * low  # only sizes near an edge are the neighbour's: the rest is this
        near_high = high / 4  # level's own (or overhead-bound, at the smallest sizes)

        def fast(sample):
            return sample[0] <= near_low and sample[1] > level.bandwidth_Bps * PLATEAU

        def slow(sample):
            return sample[0] >= near_high and sample[1] < level.bandwidth_Bps / PLATEAU

        if low > 0 and inside and fast(inside[0]):
            while inside and fast(inside[0]):
                inside.pop(0)
            low = inside[0][0] if inside else high
        if level.capacity_bytes is not None and inside and slow(inside[-1]):
            while inside and slow(inside[-1]):
                inside.pop()
            high = inside[-1][0] if inside else low
        return low, high

    def regime(self, nbytes: float, edge: float = EDGE) -> str:
        """The level a working set of ``nbytes`` lives in ('L3'), or 'L2→L3' when it lies
        within ``edge`` of the boundary between two levels."""
        for name, low, high in self.bands(edge):
            if low <= nbytes <= high:
                return name
        for lower, upper in zip(self.levels, self.levels[1:]):
            if nbytes <= (lower.capacity_bytes or float("inf")) * edge:
                return f"{lower.name}→{upper.name}"
        return self.levels[-1].name

    def bandwidth_at(self, nbytes: float) -> float:
        """Streaming rate (bytes per second) at ``nbytes``, interpolated log-log in the
        measured curve and held constant beyond its ends."""
        import math

        import numpy as np

        sizes = np.log([s for s, _ in self.stream])
        rates = np.log([r for _, r in self.stream])
        # math.log: a working set past 2⁶⁴ bytes is a Python int numpy's log cannot take
        return float(np.exp(np.interp(math.log(max(nbytes, 1.0)), sizes, rates)))

    def curve_rate(self, kind: str, size: float, lanes: int = 0) -> float | None:
        """The measured rate of a pass of ``kind`` ('tangent', 'adjoint', 'copy', 'fill',
        'alloc', 'alloc-numpy') at ``size`` bytes and ``lanes``, interpolated log-log (``curves``); None
        for a profile without that curve."""
        from .curves import curve_rate

        return curve_rate(self.curves, kind, size, lanes)

    # --- storing ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        out = asdict(self)
        out["overheads"] = None if self.overheads is None else self.overheads.to_dict()
        out["schema"] = SCHEMA
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> MachineProfile:
        if doc.get("schema") not in READABLE:
            raise ValueError(f"profile schema {doc.get('schema')!r}, expected one of {READABLE}")
        return cls(
            key=dict(doc["key"]), created=str(doc["created"]),
            call_overhead_s=float(doc["call_overhead_s"]),
            gemm=tuple((int(k), float(r)) for k, r in doc["gemm"]),
            stream=tuple((float(s), float(r)) for s, r in doc["stream"]),
            levels=tuple(MemoryLevel(str(lv["name"]), None if lv["capacity_bytes"] is None
                                     else float(lv["capacity_bytes"]), float(lv["bandwidth_Bps"]))
                         for lv in doc["levels"]),
            sysfs_caches=dict(doc.get("sysfs_caches", {})),
            calibration_s=float(doc.get("calibration_s", 0.0)), extra=dict(doc.get("extra", {})),
            lanes=tuple((str(s), int(k), int(c), float(r)) for s, k, c, r in doc.get("lanes", ())),
            overheads=Overheads.from_dict(doc["overheads"]) if doc.get("overheads") else None,
            curves=tuple((str(k), int(c), float(s), float(r))
                         for k, c, s, r in doc.get("curves", ())),
        ).checked()

    def checked(self) -> MachineProfile:
        """This profile, or a ValueError saying what makes it unusable: no memory level, no
        GEMM or streaming rate, or a rate, size or overhead that is not a finite positive
        number (every prediction divides by them; a damaged cache must not price one)."""
        def bad(value) -> bool:
            return not (isinstance(value, int | float) and math.isfinite(value) and value > 0)

        for what, rows in (("levels", self.levels), ("gemm", self.gemm),
                           ("stream", self.stream)):
            if not rows:
                raise ValueError(f"{what}: empty")
        problems = [
            *(f"levels[{i}].bandwidth_Bps = {lv.bandwidth_Bps!r}" for i, lv in
              enumerate(self.levels) if bad(lv.bandwidth_Bps)),
            *(f"levels[{i}].capacity_bytes = {lv.capacity_bytes!r}" for i, lv in
              enumerate(self.levels) if lv.capacity_bytes is not None and
              bad(lv.capacity_bytes)),
            *(f"gemm {pair!r}" for pair in self.gemm if bad(pair[0]) or bad(pair[1])),
            *(f"stream {pair!r}" for pair in self.stream if bad(pair[0]) or bad(pair[1])),
            *(f"lanes {row!r}" for row in self.lanes if any(bad(v) for v in row[1:])),
            *(f"curves {row!r}" for row in self.curves if any(bad(v) for v in row[2:])),
        ]
        if not (math.isfinite(self.call_overhead_s) and self.call_overhead_s >= 0):
            problems.append(f"call_overhead_s = {self.call_overhead_s!r}")
        if problems:
            more = f" and {len(problems) - 2} more" if len(problems) > 2 else ""
            raise ValueError(f"not a finite positive number: {', '.join(problems[:2])}{more}")
        return self


# --- the cache ------------------------------------------------------------------------------


def machine_key() -> dict:
    """What a profile is valid for: CPU model, core count, and the versions of the libraries
    whose kernels it timed (numpy, scipy, numba and the BLAS numpy calls)."""
    import platform

    import numba
    import numpy
    import scipy

    # numba's np.dot calls scipy's BLAS, a library apart from numpy's; threadpool_info only
    # lists libraries already loaded, so load it first or the key would depend on whether
    # something in this process had touched scipy.linalg yet
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import threadpool_info

    from ..provenance import cpu_model

    blas = sorted(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                  for i in threadpool_info() if i.get("user_api") == "blas")
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "machine": platform.machine(),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "numba": numba.__version__,
            "blas": blas, "schema": SCHEMA}


def profile_dir() -> Path:
    env = os.environ.get(PROFILE_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chainbench"


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(key: dict | None = None) -> Path:
    """profile-<hash of the machine key>.json in ``profile_dir()``."""
    key = machine_key() if key is None else key
    return profile_dir() / f"profile-{_digest(key)}.json"


def older_caches(key: dict) -> list[Path]:
    """The cache files an older chainbench left for this machine: a profile of an older
    schema and the overheads file it kept apart (both are measured again)."""
    found = []
    for schema in READABLE[:-1]:
        digest = _digest({**key, "schema": schema})
        found += [path for name in ("profile", "overheads")
                  if (path := profile_dir() / f"{name}-{digest}.json").exists()]
    return found


def load_cached(key: dict | None = None) -> MachineProfile | None:
    """The cached profile of this machine, or None when there is none (or it is damaged,
    or was measured for another key)."""
    return read_cached(key)[0]


def read_cached(key: dict | None = None) -> tuple[MachineProfile | None, str | None]:
    """(the cached profile of this machine or None, why a cache file that is there cannot
    be used or None): a file that is not JSON, misses a field, holds one of another type
    or a rate that is not a finite positive number (``MachineProfile.checked``) is damaged.
    Overheads measured with other code than this are left out (measured again)."""
    key = machine_key() if key is None else key
    try:
        text = cache_path(key).read_text()
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as err:
        return None, f"unreadable ({err})"
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise TypeError("not a JSON object")
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"profile schema {doc.get('schema')!r}, expected {SCHEMA}")
        profile = MachineProfile.from_dict(doc)
    except KeyError as err:
        return None, f"no field {err}"
    except (ValueError, TypeError, AttributeError) as err:
        return None, str(err).splitlines()[0] if str(err) else type(err).__name__
    if profile.key != key:
        return None, None
    from .._cache import fingerprint  # loads numba: only where a cache file is read

    if profile.overheads is not None and profile.overheads.code != fingerprint():
        profile = replace(profile, overheads=None)
    return profile, None


def save(profile: MachineProfile) -> Path:
    path = cache_path(profile.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(profile.to_dict(), indent=1) + "\n")
    os.replace(tmp, path)
    return path
