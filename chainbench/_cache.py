"""Numba's on-disk cache, made to notice edits to the code a kernel inlines.

Numba keys a cached kernel on its own source file only. An engine kernel inlines the layer
rules and the op-code dispatch generated from the layer registry, so after a layer is added
or edited the engine's cache would still load the old machine code. Here every chainbench
kernel's cache stamp also carries a fingerprint of the sources it may inline (the model and
the engines), so such an edit recompiles instead of running stale code.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from numba.core.caching import CacheImpl, _CacheLocator

_PACKAGE = Path(__file__).resolve().parent
#: Sources a kernel may inline: the jit options, the model (layers, dispatch) and the engines.
_INLINED = ("_jit.py", "_cache.py", "model", "engines")


@cache
def fingerprint() -> str:
    """A digest of every source file a chainbench kernel may inline."""
    digest = hashlib.sha256()
    for entry in _INLINED:
        path = _PACKAGE / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(_PACKAGE).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


class FingerprintLocator(_CacheLocator):
    """Numba's own locator for a chainbench kernel, with ``fingerprint()`` in its stamp."""

    def __init__(self, inner: _CacheLocator):
        self._inner = inner

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_source_stamp(self):
        return self._inner.get_source_stamp(), fingerprint()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    @classmethod
    def from_function(cls, py_func, py_file):
        if not getattr(py_func, "__module__", "").startswith("chainbench."):
            return None
        for locator_class in CacheImpl._locator_classes:
            if locator_class is not cls:
                inner = locator_class.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
        return None


def install() -> None:
    """Put the fingerprinting locator first in Numba's list (once)."""
    if FingerprintLocator not in CacheImpl._locator_classes:
        CacheImpl._locator_classes.insert(0, FingerprintLocator)
