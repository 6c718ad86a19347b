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
    """Bytes this process may still allocate: the least of what the OS has available
    (MemAvailable), what its cgroup's limit leaves (v2 memory.max − memory.current, or v1's
    limit_in_bytes − usage_in_bytes) and what RLIMIT_AS leaves of the address space;
    None when none of them says."""
    limits = [_mem_available(), _cgroup_room(), _rlimit_room()]
    known = [b for b in limits if b is not None]
    return max(0, min(known)) if known else None


def require_memory(nbytes: float, what: str, instead: str, share: float = 1.0) -> None:
    """Refuse (``errors.TooLarge``, one line) before allocating ``nbytes`` for ``what`` when
    they exceed ``share`` of ``available_memory()``; ``instead`` says what to ask for."""
    from .errors import TooLarge

    room = available_memory()
    if room is not None and nbytes > share * room:
        of = "" if share == 1 else f"{share:.0%} of "
        raise TooLarge(f"{what} needs about {nbytes / 2**30:.3g} GiB, more than {of}the "
                       f"{room / 2**30:.3g} GiB available; {instead}")


def _mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


#: (limit file, usage file) of cgroup v2 and v1, relative to the cgroup mount.
CGROUP_FILES = (("memory.max", "memory.current"),
                ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"))


def _cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The cgroup's memory limit less its usage; None when unlimited or unreadable."""
    for limit_file, usage_file in CGROUP_FILES:
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 2**60:  # v1 writes "unlimited" as a huge number
            return None
        return int(limit) - usage
    return None


def _rlimit_room() -> int | None:
    """RLIMIT_AS's soft limit less the address space in use (VmSize); None if unlimited."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return soft - int(line.split()[1]) * 1024
    except (ImportError, OSError, ValueError, IndexError):
        pass
    return None
