"""``chainbench calibrate [--force] [--json]``: this machine's measured profile (call
overhead, GEMM rate by size, memory levels from the streaming rate, and chainbench's own
per-call, per-pass and per-rule costs), from the cache or measured now; see
docs/machine-profile.md."""

from __future__ import annotations

import json
import sys


def register(sub):
    p = sub.add_parser("calibrate", help="measure (or show the cached) machine profile",
                       description="Show this machine's profile: per-call overhead of a "
                       "jitted kernel, GEMM rate by size and the memory levels found in the "
                       "streaming rate, all with one thread, beside the cache sizes the OS "
                       "reports. Measured on first use (~5 s) and cached per machine.")
    p.add_argument("--force", action="store_true", help="measure again, replacing the cache")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    return p


def run(args) -> int:
    from ..machine.current import current_profile
    from ..machine.own_costs import ensure_overheads
    from ..machine.profile import cache_path, load_cached

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    measured = args.force or load_cached() is None
    current_profile(force=args.force, announce=say)
    profile = ensure_overheads(say, force=args.force)  # chainbench's own costs, same file
    if args.json:
        print(json.dumps(profile.to_dict(), indent=1))
        return 0
    for line in describe(profile, cache_path(profile.key), measured):
        print(line)
    return 0


def _lanes_lines(profile) -> list[str]:
    """The skinny-product grid, one line per small side and k: (M×K) @ (K×N) with that side
    c and the others k."""
    keys = sorted({(side, k) for side, k, _, _ in profile.lanes})
    lines = ["skinny GEMM    Gmadd/s with one side c (M: rows out, K: inner, N: lanes), "
             "the others k"] if keys else []
    for side, k in keys:
        row = sorted((c, r) for s, kk, c, r in profile.lanes if (s, kk) == (side, k))
        lines.append(f"  {side} k={k:<5d}" + " ".join(f"c={c}: {r / 1e9:.3g}" for c, r in row))
    return lines


def _curves_lines(profile) -> list[str]:
    """The pass curves at their ends: products per lanes (smallest and largest matrix),
    copies, fills and fresh buffers (smallest and largest block)."""
    from ._format import nbytes

    if not profile.curves:
        return []
    lines = ["pass curves    rate at the smallest → largest size measured (explain's kernels)"]
    for kind in ("tangent", "adjoint"):
        for lanes in sorted({c for k, c, _, _ in profile.curves if k == kind}):
            row = sorted((s, r) for k, c, s, r in profile.curves if (k, c) == (kind, lanes))
            lines.append(f"  {kind:8s} {lanes:3d} lanes  {row[0][1] / 1e9:.3g} → "
                         f"{row[-1][1] / 1e9:.3g} Gmadd/s (W {nbytes(row[0][0])} → "
                         f"{nbytes(row[-1][0])})")
    for kind in ("copy", "fill", "alloc"):
        row = sorted((s, r) for k, _, s, r in profile.curves if k == kind)
        if row:
            lines.append(f"  {kind:8s}            {row[0][1] / 1e9:.3g} → {row[-1][1] / 1e9:.3g}"
                         f" GB/s ({nbytes(row[0][0])} → {nbytes(row[-1][0])})")
    return lines


def _own_costs_lines(overheads) -> list[str]:
    """chainbench's own costs on this machine, as the time model prices them."""
    from ._format import seconds

    lines = [f"chainbench     {seconds(overheads.call_s)} per Jacobian call, "
             f"{seconds(overheads.pass_s)} per layer pass (the time model's fixed costs"
             f"{'' if overheads.measured else '; not measured yet: the call overhead'})"]
    if overheads.madd_s:
        lines.append("per madd, ns   value / record / tangent / adjoint rule "
                     "(layers without a matrix)")
        lines += [f"  {name:9s}" + " / ".join(f"{c * 1e9:.2g}" for c in costs)
                  for name, *costs in overheads.madd_s]
    return lines


def describe(profile, path, measured: bool) -> list[str]:
    """The lines ``chainbench calibrate`` prints for ``profile`` cached at ``path``."""
    from ._format import nbytes, seconds

    key = profile.key
    median = profile.extra.get("call_overhead_median_s", float("nan"))
    lines = [f"machine        {key.get('cpu_model')}, {key.get('cores')} cores; "
             f"{', '.join(key.get('blas', [])) or 'BLAS unknown'}",
             f"call overhead  {seconds(profile.call_overhead_s)} per call of a jitted kernel "
             f"from Python (median {seconds(median)})",
             "GEMM k×k       " + "  ".join(f"k={k}: {rate / 1e9:.3g}" for k, rate in profile.gemm)
             + " Gmadd/s (one thread)",
             *_lanes_lines(profile),
             *_curves_lines(profile),
             "memory levels  from the streaming rate of y = W x (one thread)"]
    for level in profile.levels:
        size = "beyond" if level.capacity_bytes is None else f"up to {nbytes(level.capacity_bytes)}"
        lines.append(f"  {level.name:5s} {size:15s} {level.bandwidth_Bps / 1e9:6.3g} GB/s")
    sysfs = "  ".join(f"{name} {nbytes(size)}" for name, size in profile.sysfs_caches.items())
    lines.append(f"sysfs caches   {sysfs or 'not reported'} (what the OS says, for comparison)")
    busy, load = profile.extra.get("preempted_fraction"), profile.extra.get("load_average")
    if busy:
        during = (f", load average {load[0]:.1f} → {load[-1]:.1f}"
                  if load and None not in load else "")
        lines.append(f"busy machine   other processes interrupted {busy:.0%} of the samples"
                     f"{during}; those were left out")
    lines += _own_costs_lines(profile.own_costs)
    how = "measured now" if measured else f"cached, measured {profile.created}"
    lines.append(f"profile        {path} ({how} in {seconds(profile.calibration_s)}; "
                 "--force measures again)")
    return lines
