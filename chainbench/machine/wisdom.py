"""The measuring planner's memory (``planner.py``): per machine, what measured fastest for a
chain shape and a strategy, kept in ``wisdom-<machine>.json`` beside the machine profile, as
FFTW keeps its wisdom. A damaged file is set aside with a one-line notice (and replaced by
the next plan measured); a read-only folder keeps wisdom for this process only."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from .profile import cache_path

#: Entries already read, per file: a bind asks on every call of a new chain.
_READ: dict[Path, dict] = {}


def wisdom_path(key: dict | None = None) -> Path:
    """wisdom-<hash of the machine key>.json, beside that machine's profile."""
    profile = cache_path(key)
    return profile.with_name(profile.name.replace("profile-", "wisdom-", 1))


def _entries(path: Path) -> dict:
    if path not in _READ:
        try:
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
                raise ValueError("not a mapping of plans")
        except FileNotFoundError:
            doc = {}
        except (OSError, ValueError) as err:
            print(f"chainbench: notice: {path}: damaged planner wisdom ({err}); measuring "
                  "again", file=sys.stderr)
            doc = {}
        _READ[path] = doc
    return _READ[path]


def recall(key: dict | None, entry: str) -> dict | None:
    """What was measured fastest for ``entry`` on machine ``key``, or None."""
    return _entries(wisdom_path(key)).get(entry)


def remember(key: dict | None, entry: str, value: dict) -> None:
    """Keep ``value`` for ``entry`` on machine ``key``: written whole to a temporary file
    and moved over the old one, so a reader never sees half a file."""
    path = wisdom_path(key)
    entries = _entries(path)
    entries[entry] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False,
                                         suffix=".tmp") as tmp:
            json.dump(entries, tmp, indent=1, sort_keys=True)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only cache: this process remembers, the next one measures again


def forget() -> None:
    """Drop what this process has read (the files stay)."""
    _READ.clear()
