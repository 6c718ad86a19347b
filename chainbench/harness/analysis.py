"""Fitted figures of a results table: scaling exponents per series, R² of time against
the cost model, and forward/reverse crossovers. Input: points.csv as a DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fits import crossover, fit_range, loglog_slope, r2_linear

SERIES = ["mode", "chunk_spec", "snapshots_spec", "depth", "width", "activation", "seed"]


def _by_cpu(ok: pd.DataFrame, keys: list[str]) -> list[str]:
    """``keys``, plus cpu_model when the rows were measured on more than one CPU model
    (a cluster of unlike workers): their timings are not comparable."""
    if "cpu_model" in ok.columns and ok["cpu_model"].nunique() > 1:
        return [*keys, "cpu_model"]
    return keys


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    ok = df[df["status"] == "ok"].copy()
    ok["m_rule"] = np.where(ok["m"] == ok["n"], "m=n", "m=" + ok["m"].astype(str))
    return ok


def exponents(df: pd.DataFrame) -> pd.DataFrame:
    """Log-log slope of median time against n for every series with ≥ 3 sizes of n, over
    the range ``fits.fit_range`` picks (above overhead, and within one memory level where
    the rows say which: see its docstring); ``range`` names the rule used."""
    rows, ok = [], _ok(df)
    keys = _by_cpu(ok, [*SERIES, "m_rule"])
    for key, g in ok.groupby(keys, sort=False):
        g = g.sort_values("n")
        if g["n"].nunique() < 3:
            continue
        levels = g["memory_level"].to_numpy() if "memory_level" in g.columns else None
        mask, rule = fit_range(g["n"].to_numpy(), g["time_median_s"].to_numpy(), levels)
        used = g[mask]
        fit = loglog_slope(used["n"], used["time_median_s"])
        work = loglog_slope(used["n"], used["madds_predicted"])
        rows.append({**dict(zip(keys, key)), "exponent": fit.slope,
                     "ci_low": fit.low, "ci_high": fit.high, "r2": fit.r2, "points": fit.points,
                     "n_from": int(used["n"].min()), "n_to": int(used["n"].max()),
                     "work_exponent": work.slope, "range": rule})
    return pd.DataFrame(rows)


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


def summary(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"exponents": exponents(df), "cost_fit": cost_fit(df), "crossovers": crossovers(df)}
