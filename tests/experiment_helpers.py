"""A tiny experiment for CLI and sweep tests: two n, two m, both pure modes, a few ms a point."""

TINY = """
name = "tiny"
description = "two sizes, two m, both modes"
[grid]
n = [4, 8]
m = [1, 2]
depth = [1]
modes = ["forward", "reverse"]
[measure]
min_sample_ms = 0.5
min_samples = 2
min_seconds = 0.001
max_seconds = 0.02
"""
