"""``chainbench speed``: the engines against hand-written numpy on the standard chain, as
ratios measured in one run, plus cold and warm start-up times."""

from __future__ import annotations


def register(sub):
    p = sub.add_parser("speed", help="engines against hand-written numpy (ratios, one run)",
                       description="Time the standard chain's Jacobians against the numpy "
                       "code one would write by hand, alternating the two, with one thread; "
                       "then the cold (empty JIT cache) and warm start-up times.")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the cold/warm start-up measurement (two fresh processes)")
    return p


def run(args) -> int:
    from ..harness.tools.speed import report

    report(startup_too=not args.no_startup)
    return 0
