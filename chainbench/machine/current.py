"""The profile of the machine this process runs on: held once per process, read from the
cache file, or measured (``calibrate``) when there is none."""

from __future__ import annotations

import sys

from . import calibrate as calibration
from .profile import MachineProfile, cache_path, machine_key, read_cached, save

_CURRENT: MachineProfile | None = None


def current_profile(*, force: bool = False, announce=None) -> MachineProfile:
    """This machine's profile: cached in this process, else from the cache file, else
    measured now (``announce(message)`` is told before a calibration starts) and cached."""
    global _CURRENT
    if _CURRENT is not None and not force:
        return _CURRENT
    key = machine_key()
    profile, damaged = (None, None) if force else read_cached(key)
    if damaged:
        print(f"chainbench: warning: {cache_path(key)}: damaged machine profile ({damaged}); "
              "measuring this machine again", file=sys.stderr)
    if profile is None:
        if announce is not None:
            announce("calibrating this machine (first use; cached afterwards) …")
        profile = calibration.calibrate(key=key)
        save(profile)
    _CURRENT = profile
    return profile
