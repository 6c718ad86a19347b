"""Test-suite settings; importable helpers live in chain_helpers.py (conftest is not imported)."""

from hypothesis import settings

# Numba compiles a kernel on its first call with new types (seconds), so per-example deadlines
# would flag compilation, not slowness.
settings.register_profile("chainbench", deadline=None)
settings.load_profile("chainbench")
