"""The profile of the machine this process runs on: held once per process, read from the
cache file, or measured (``calibrate``) when there is none. The one owner of that file:
chainbench's own costs are stored into it here too (``store_overheads``)."""

from __future__ import annotations

import sys
from dataclasses import replace

from . import calibrate as calibration
from .overheads import Overheads
from .profile import MachineProfile, cache_path, machine_key, older_caches, read_cached, save

_CURRENT: MachineProfile | None = None


def current_profile(*, force: bool = False, announce=None) -> MachineProfile:
    """This machine's profile: cached in this process, else from the cache file, else
    measured now (``announce(message)`` is told before a calibration starts) and cached."""
    global _CURRENT
    if _CURRENT is not None and not force:
        return _CURRENT
    key = machine_key()
    profile, damaged = (None, None) if force else read_cached(key)
    older = older_caches(key) if profile is None else []
    if damaged:
        print(f"chainbench: warning: {cache_path(key)}: damaged machine profile ({damaged}); "
              "measuring this machine again", file=sys.stderr)
    elif older and not force:
        print(f"chainbench: notice: {older[0]}: a machine profile of an older chainbench; "
              "measuring this machine again", file=sys.stderr)
    if profile is None:
        if announce is not None:
            announce("calibrating this machine (first use; cached afterwards) …")
        profile = calibration.calibrate(key=key)
        save(profile)
        for path in older:  # replaced by the file just written: said once
            path.unlink(missing_ok=True)
    _CURRENT = profile
    return profile


def store_overheads(overheads: Overheads) -> MachineProfile:
    """This machine's profile with chainbench's own costs ``overheads``, saved to its cache
    file (a read-only cache keeps them for this process only: measured again next time)."""
    global _CURRENT
    profile = replace(current_profile(), overheads=overheads)
    try:
        save(profile)
    except OSError:
        pass
    _CURRENT = profile
    return profile
