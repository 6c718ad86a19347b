"""``chainbench list``: the shipped experiments, one line each."""

from __future__ import annotations


def register(sub):
    return sub.add_parser("list", help="list the shipped experiments",
                          description="List the experiments shipped with chainbench.")


def run(args) -> int:
    from ..harness import config

    for name, path in config.shipped().items():
        exp = config.load(path)
        print(f"{name:18s} {len(exp.points()):4d} points  {exp.description}")
    return 0
