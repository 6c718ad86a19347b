"""The command line: ``chainbench COMMAND``, one module per subcommand. Each module adds its
parser (``register``) and runs it (``run(args) -> int``); bad input prints one line and exits
with code 2.

    chainbench run | list | fit | plot | compare | plan | accuracy | speed | calibrate | gate
"""

from __future__ import annotations

import argparse
import os
import sys

from ..harness.config import ConfigError
from . import accuracy, compare, fit, listing, plan, plot, run, speed

#: Subcommand modules in the order ``--help`` lists them.
SUBCOMMANDS = [run, listing, fit, plot, compare, plan, accuracy, speed]


def register(module) -> None:
    """Add a subcommand module (one with ``register(sub)`` and ``run(args)``) to the CLI."""
    if module not in SUBCOMMANDS:
        SUBCOMMANDS.append(module)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainbench",
        description="Measure what automatic differentiation costs on chains of layers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(sub).set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as err:
        print(f"chainbench: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `chainbench list | head -2`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
