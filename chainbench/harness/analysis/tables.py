"""Fitted figures of a results table: scaling exponents per series, R² of time against
the cost model, forward/reverse crossovers, and the tally of a run (how many points were
measured, and why the others were not). Input: points.csv as a DataFrame (``load_points``
puts the machine profile its run recorded in ``df.attrs["profile"]``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...strategies import is_strategy
from ..experiment.second import FIRST
from .fits import COMPUTE, compute_bound, crossover, loglog_slope, r2_linear, scaling_fit

#: What makes a series (beside m's rule): a Hessian's and an HVP's by one mode are two.
SERIES = ["quantity", "mode", "chunk_spec", "snapshots_spec", "depth", "width", "activation",
          "seed"]


def _by_cpu(ok: pd.DataFrame, keys: list[str]) -> list[str]:
    """``keys``, plus cpu_model when the rows were measured on more than one CPU model
    (a cluster of unlike workers): their timings are not comparable."""
    if "cpu_model" in ok.columns and ok["cpu_model"].nunique() > 1:
        return [*keys, "cpu_model"]
    return keys


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the fits read: status 'ok' with a median time that is a positive number (a
    row edited or written by another tool may hold −1, text or nothing there)."""
    ok = df[df["status"] == "ok"].copy()
    for column in ("time_median_s", "madds_predicted"):
        if column in ok.columns:
            ok[column] = pd.to_numeric(ok[column], errors="coerce")
    ok = ok[np.isfinite(ok["time_median_s"]) & (ok["time_median_s"] > 0)]
    ok["m_rule"] = np.where(ok["m"] == ok["n"], "m=n", "m=" + ok["m"].astype(str))
    if "quantity" not in ok.columns:  # rows not read by load_points: Jacobians
        ok["quantity"] = FIRST
    return ok


def load(folder) -> pd.DataFrame:
    """points.csv of a results folder (``points_csv.load_points``), with the machine profile
    its latest run recorded (a dict, or None for results older than profiles) in
    ``df.attrs["profile"]``: fits read the per-call overhead from it."""
    from ..storage.points_csv import load_points

    df = load_points(folder)
    if not df.attrs.get("profile"):
        df.attrs["profile"] = recorded_profile(folder)
    return df


def recorded_profile(folder) -> dict | None:
    """``MachineProfile.to_dict()`` of the latest run in a folder's meta.json that has one."""
    from ..storage.results import META

    try:
        runs = json.loads((Path(folder) / META).read_text()).get("runs", [])
    except (OSError, ValueError, AttributeError):
        return None
    return next((r["profile"] for r in reversed(runs)
                 if isinstance(r, dict) and r.get("profile")), None)


def profile_of(df: pd.DataFrame):
    """The ``MachineProfile`` the results recorded (``df.attrs["profile"]``), or None."""
    from ...machine.profile import MachineProfile

    doc = df.attrs.get("profile")
    if isinstance(doc, MachineProfile) or not doc:
        return doc or None
    try:
        return MachineProfile.from_dict(doc)
    except (ValueError, KeyError, TypeError):
        return None


def series_fit(g: pd.DataFrame, profile=None):
    """``fits.scaling_fit`` of one series' rows (sorted by n): median time against n, each
    row's regime 'compute' where ``fits.compute_bound`` says so (given a profile), else
    its ``memory_level``; above the profile's per-call overhead."""
    levels = g["memory_level"].to_numpy(dtype=object) if "memory_level" in g.columns and \
        g["memory_level"].notna().any() else None
    if profile is not None and levels is not None and \
            {"madds_counted", "working_set_bytes"} <= set(g.columns):
        # a peer counts nothing: the work of the algorithm it runs, as the cost model predicts
        madds = pd.to_numeric(g["madds_counted"], errors="coerce")
        if "madds_predicted" in g.columns:
            madds = madds.fillna(pd.to_numeric(g["madds_predicted"], errors="coerce"))
        bound = compute_bound(madds.to_numpy(float),
                              g["working_set_bytes"].to_numpy(float), profile)
        levels = np.where(bound, COMPUTE, levels)
    return scaling_fit(g["n"].to_numpy(), g["time_median_s"].to_numpy(), levels,
                       profile.call_overhead_s if profile is not None else None)


def exponents(df: pd.DataFrame) -> pd.DataFrame:
    """Log-log slope of median time against n for every series with ≥ 3 sizes of n, over
    the points ``fits.fit_range`` picks (one measured regime: compute-bound, or one memory
    level; above the per-call overhead: see ``series_fit``);
    ``regime`` and ``range`` say which, ``trusted`` whether the figure stands, ``note`` why
    not (then ``exponent`` is NaN when too few points qualified)."""
    rows, ok = [], _ok(df)
    keys = _by_cpu(ok, [*SERIES, "m_rule"])
    profile = profile_of(df)
    for key, g in ok.groupby(keys, sort=False):
        g = g.sort_values("n")
        if g["n"].nunique() < 3:
            continue
        result = series_fit(g, profile)
        used = g[result.range.mask]
        fit = result.slope
        work = loglog_slope(used["n"], used["madds_predicted"])
        rows.append({**dict(zip(keys, key)), "exponent": fit.slope,
                     "ci_low": fit.low, "ci_high": fit.high, "r2": fit.r2,
                     "points": int(len(used)),
                     "n_from": int(used["n"].min()) if len(used) else np.nan,
                     "n_to": int(used["n"].max()) if len(used) else np.nan,
                     "work_exponent": work.slope, **machine_share(used, fit.slope, work.slope),
                     "regime": result.range.regime, "range": result.range.rule,
                     "trusted": result.trusted, "note": result.note})
    return pd.DataFrame(rows)


#: The time's exponent departs from the counted work's, in the decomposition's words, when
#: the time per multiply-add changes by more than this exponent over the fitted range.
MACHINE_SHARE = 0.1


def machine_share(used: pd.DataFrame, exponent: float, work_exponent: float) -> dict:
    """Keep the algorithm apart from the machine: over the rows ``used`` for a fit (sorted
    by n), the exponent of the time per multiply-add (the time's exponent less the counted
    work's: least squares is linear in log y), the rate reached at both ends of the range
    (multiply-adds per second), where each end's working set lives, and ``why``: one line
    when the machine's share is larger than MACHINE_SHARE ('' otherwise)."""
    share = exponent - work_exponent
    out = {"per_madd_exponent": share, "rate_from": np.nan, "rate_to": np.nan,
           "level_from": "", "level_to": "", "why": ""}
    if len(used) < 2 or not np.isfinite(share):
        return out
    first, last = used.iloc[0], used.iloc[-1]
    rate = (lambda r: float(r["madds_predicted"]) / float(r["time_median_s"]))
    out.update(rate_from=rate(first), rate_to=rate(last),
               level_from=_level(first), level_to=_level(last))
    if abs(share) > MACHINE_SHARE:
        out["why"] = _why(first, last, out["rate_from"], out["rate_to"], share)
    return out


def _level(row) -> str:
    level = row.get("memory_level")
    return level if isinstance(level, str) else ""


def _why(first, last, rate_from: float, rate_to: float, share: float) -> str:
    """One line: the machine, not the algorithm, moves the time's exponent by ``share``."""
    faster = rate_to / rate_from
    where = [_place(first), _place(last)]
    change = (f"{faster:.2g}× faster" if faster >= 1 else f"{1 / faster:.2g}× slower")
    return (f"the machine's share {share:+.2f}: this CPU runs a multiply-add {change} at "
            f"n = {int(last['n'])}{where[1]} than at n = {int(first['n'])}{where[0]} "
            f"({rate_from / 1e9:.3g} → {rate_to / 1e9:.3g} Gmadd/s)")


def _place(row) -> str:
    """' (7.0 MB, L3)': a row's working set and its level, where the row says."""
    parts = []
    ws = row.get("working_set_bytes")
    if ws is not None and np.isfinite(float(ws)):
        parts.append(_bytes(float(ws)))
    if _level(row):
        parts.append(_level(row))
    return f" ({', '.join(parts)})" if parts else ""


def _bytes(b: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def cost_fit(df: pd.DataFrame) -> pd.DataFrame:
    """R² of median time against predicted multiply-adds, per engine (and CPU model)."""
    rows, ok = [], _ok(df)
    keys = _by_cpu(ok, ["engine"])
    for key, g in ok.groupby(keys, sort=False):
        rows.append({**dict(zip(keys, key)), "points": len(g),
                     "r2": r2_linear(g["madds_predicted"], g["time_median_s"]),
                     "seconds_per_gmadd": float(np.median(
                         g["time_median_s"] / g["madds_predicted"]) * 1e9)})
    return pd.DataFrame(rows)


def crossovers(df: pd.DataFrame) -> pd.DataFrame:
    """For each n with several m measured in both pure modes (default chunk): the m/n
    where forward's time falls below reverse's (interpolated), NaN if it never does."""
    ok = _ok(df)
    ok = ok[ok["chunk_spec"].astype(str) == "default"]
    rows = []
    keys = _by_cpu(ok, ["n", "depth", "width", "activation", "seed"])
    for key, g in ok.groupby(keys, sort=False):
        f = g[g["mode"] == "forward"].set_index("m")["time_median_s"]
        r = g[g["mode"] == "reverse"].set_index("m")["time_median_s"]
        both = f.index.intersection(r.index).sort_values()
        if len(both) < 2:
            continue
        ratio = (f[both] / r[both]).to_numpy()
        m_cross = crossover(both.to_numpy(), ratio)
        n = key[0]
        rows.append({"n": n, "depth": key[1], "width": key[2], "activation": key[3],
                     **({"cpu_model": key[-1]} if "cpu_model" in keys else {}),
                     "m_values": len(both), "crossover_m": m_cross,
                     "crossover_m_over_n": m_cross / n})
    return pd.DataFrame(rows)


def prediction_error(df: pd.DataFrame) -> pd.DataFrame:
    """How far the time model's ``time_predicted_s`` is from the measured median, per engine
    (and CPU model): |ln(measured / predicted)| at the median and the 90th percentile, the
    median ratio measured / predicted, and the point it misses most."""
    ok = _ok(df)
    if "time_predicted_s" not in ok.columns:
        return pd.DataFrame()
    ok = ok[pd.to_numeric(ok["time_predicted_s"], errors="coerce") > 0]
    rows, keys = [], _by_cpu(ok, ["engine"])
    for key, g in ok.groupby(keys, sort=False):
        ratio = g["time_median_s"] / g["time_predicted_s"].astype(float)
        miss = np.abs(np.log(ratio))
        worst = g.loc[miss.idxmax()]
        rows.append({**dict(zip(keys, key)), "points": len(g),
                     "median_abs_log": float(np.median(miss)),
                     "p90_abs_log": float(np.quantile(miss, 0.9)),
                     "median_ratio": float(np.median(ratio)),
                     "worst": f"n={worst['n']} m={worst['m']} depth={worst['depth']} "
                              f"×{float(ratio[miss.idxmax()]):.2f}"})
    return pd.DataFrame(rows)


#: A choice within this fraction of the fastest pure mode counts as a good one.
REGRET_OK = 0.10


def auto_regret(df: pd.DataFrame) -> pd.DataFrame:
    """What mode='auto' loses against the fastest pure mode measured, over every chain
    measured in both pure modes (``regrets``). One row: chains, the share within REGRET_OK of
    the fastest, the median and worst regret (time of the pick / time of the fastest - 1)."""
    return _regret_table(regrets(df))


def regrets(df: pd.DataFrame) -> pd.DataFrame:
    """Per chain measured in both pure modes (at any chunks): auto's pick (``pick``,
    ``pick_chunk``), the fastest pure mode measured (``fastest``, ``fastest_chunk``), ``ratio`` = time of the pick / time of the fastest (1: auto chose
    right) and ``regret`` = ratio - 1. The pick is the chain's measured mode='auto'
    row where there is one (``measured`` True), else the (mode, chunk) the time model
    predicts fastest among those measured; where a pure row runs the very (mode, chunk)
    picked, its time stands for the pick's, so that two timings of one computation do not
    count their difference as regret."""
    ok = _ok(df)
    if "time_predicted_s" not in ok.columns:
        return pd.DataFrame()
    ok = ok[ok["engine"].isin(["forward", "reverse"])
            & (pd.to_numeric(ok["time_predicted_s"], errors="coerce") > 0)]
    ok = ok.assign(**{c: ok.get(c, pd.Series(np.nan, index=ok.index)) for c in ("chunk",
                                                                               "mode")})
    rows = []
    for key, g in ok.groupby(REGRET_KEY, sort=False):
        picked = g["mode"].map(is_strategy).astype(bool)  # rows of mode='auto'
        auto, pure = g[picked], g[~picked]
        if set(pure["engine"]) != {"forward", "reverse"}:
            continue
        pure = pure.drop_duplicates(["engine", "chunk"])
        pick = auto.iloc[0] if len(auto) else \
            pure.loc[pure["time_predicted_s"].astype(float).idxmin()]
        same = pure[(pure["engine"] == pick["engine"]) & (pure["chunk"] == pick["chunk"])]
        if len(same):  # one computation timed twice: its two timings' noise is no regret
            pick = same.iloc[0]
        best = pure.loc[pure["time_median_s"].idxmin()]
        rows.append({**dict(zip(REGRET_KEY, key)), "pick": pick["engine"],
                     "pick_chunk": _chunk(pick), "measured": bool(len(auto)),
                     "fastest": best["engine"], "fastest_chunk": _chunk(best),
                     "ratio": pick["time_median_s"] / best["time_median_s"]})
    out = pd.DataFrame(rows)
    if len(out):
        out["regret"] = out["ratio"] - 1
    return out


#: What identifies one chain among a results table's rows.
REGRET_KEY = ["n", "m", "depth", "width", "activation", "seed"]


def _chunk(row) -> str:
    return "-" if pd.isna(row["chunk"]) else str(int(row["chunk"]))


def _regret_table(per_chain: pd.DataFrame) -> pd.DataFrame:
    if per_chain.empty:
        return pd.DataFrame()
    r = per_chain["regret"].to_numpy()
    return pd.DataFrame([{"chains": len(r), "within_10pct": float(np.mean(r <= REGRET_OK)),
                          "median_regret": float(np.median(r)), "worst_regret": float(r.max())}])


def summary(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table; empty where the rows lack a column it reads (a file of another version,
    or written by another tool: ``points_csv.NEEDED`` is all a points file must have)."""
    tables = {"exponents": (exponents, ("madds_predicted",)),
              "cost_fit": (cost_fit, ("engine", "madds_predicted")), "crossovers": (crossovers, ()),
              "prediction_error": (prediction_error, ("engine",)),
              "auto_regret": (auto_regret, ("engine", "time_predicted_s"))}
    # every table but the exponents compares Jacobian engines: second-order rows stay out
    first = df[df["quantity"].astype(str) == FIRST] if "quantity" in df.columns else df
    return {name: table(df if name == "exponents" else first)
            if {"time_median_s", *needs} <= set(df.columns) else pd.DataFrame()
            for name, (table, needs) in tables.items()}


# --- the tally of a run ----------------------------------------------------------------------

STATUSES = ("ok", "timeout", "skipped", "failed")


def reason_kind(reason: str) -> str:
    """A reason with its numbers blanked ('predicted # s per call … > budget # s'), so the
    same cause at different sizes groups together."""
    return re.sub(r"\d+(\.\d+)?(e[+-]?\d+)?", "#", str(reason))


def _sizes(g: pd.DataFrame) -> str:
    """'forward n=16…2048, reverse n=4096': which points a group of rows holds."""
    parts = []
    for mode, rows in g.groupby("mode", sort=False):
        lo, hi = int(rows["n"].min()), int(rows["n"].max())
        parts.append(f"{mode} n={lo}" + (f"…{hi}" if hi != lo else ""))
    return ", ".join(parts)


def tally(df: pd.DataFrame) -> dict:
    """How many points ended ok, timeout, skipped and failed, and the reasons of those not
    ok, grouped by cause: [{status, count, reason (the first of its kind), points}, …]."""
    status = df["status"].astype(str) if len(df) else pd.Series([], dtype=str)
    out = {s: int((status == s).sum()) for s in STATUSES}
    others = sorted(set(status) - set(STATUSES))
    out.update({s: int((status == s).sum()) for s in others})
    problems = []
    bad = df[status != "ok"].copy() if len(df) else df
    if len(bad):
        bad["reason"] = bad["reason"].fillna("").astype(str)
        bad["kind"] = bad["reason"].map(reason_kind)
        for (st, _), g in bad.groupby([bad["status"].astype(str), "kind"], sort=False):
            problems.append({"status": st, "count": int(len(g)),
                             "reason": g["reason"].iloc[0] or "(no reason given)",
                             "points": _sizes(g)})
    out["problems"] = problems
    return out


def tally_lines(t: dict) -> list[str]:
    """The tally as lines for a terminal: the counts, then one line per group of reasons."""
    counts = ", ".join(f"{t.get(s, 0)} {s}" for s in STATUSES)
    extra = [s for s in t if s not in (*STATUSES, "problems")]
    counts += "".join(f", {t[s]} {s}" for s in extra)
    if not t.get("problems"):
        return [f"points: {counts}"]
    lines = [f"points: {counts}"]
    for p in t["problems"]:
        lines.append(f"  {p['status']} ×{p['count']} ({p['points']}): {p['reason']}")
    return lines


def losses(rows: pd.DataFrame) -> str:
    """Why ``rows`` (a series, say) have points not measured: '1 timeout: …; 8 skipped: …'."""
    parts = []
    for p in tally(rows)["problems"]:
        parts.append(f"{p['count']} {p['status']}: {p['reason']}")
    return "; ".join(parts)
