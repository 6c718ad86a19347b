"""Where a measurement came from: package versions, CPU, cores, threads, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("chainbench", "numba", "llvmlite", "numpy", "scipy", "pandas", "matplotlib")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def cache_sizes() -> dict:
    """Bytes per cache level of CPU 0 ({'L1d': …, 'L2': …, 'L3': …}), where the OS says."""
    sizes = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1], 1)
        sizes["L1d" if level == "1" else f"L{level}"] = int(size.rstrip("KMG")) * scale
    return sizes


def machine() -> dict:
    """This machine's CPU, cores, caches, platform and host name (a fresh copy each call)."""
    return dict(_machine())


@lru_cache(maxsize=1)  # read once per process: every sweep row asks
def _machine() -> dict:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "caches": cache_sizes(),
        "platform": platform.platform(),
        "hostname": platform.node(),
    }


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (MemAvailable), if the OS says."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
