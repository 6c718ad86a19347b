"""The command line: ``chainbench COMMAND``, one module per subcommand. Each module adds its
parser (``register``) and runs it (``run(args) -> int``); bad input prints one line and exits
with code 2.

    chainbench run | list | fit | plot | report | compare | plan | predict | explain
               | sparsity | accuracy | speed | calibrate | gate
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ._streams import reader_may_leave
from . import (
    accuracy,
    calibrate,
    compare,
    explain,
    fit,
    gate,
    listing,
    plan,
    plot,
    predict,
    report,
    run,
    sparsity,
    speed,
)

#: Subcommand modules in the order ``--help`` lists them.
SUBCOMMANDS = [run, listing, fit, plot, report, compare, plan, predict, explain, sparsity,
               accuracy, speed, calibrate, gate]


def register(module) -> None:
    """Add a subcommand module (one with ``register(sub)`` and ``run(args)``) to the CLI."""
    if module not in SUBCOMMANDS:
        SUBCOMMANDS.append(module)


class Parser(argparse.ArgumentParser):
    """argparse's parser, except that a usage error is one line too (exit 2), as every
    other bad input is; the usage itself is one ``--help`` away."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="chainbench",
        description="Measure what automatic differentiation costs on chains of layers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(sub).set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input prints one line and returns 2, Ctrl-C 130. A reader
    that leaves (``chainbench gate | head -1``) changes nothing: the command finishes its
    work with its output discarded and its own exit status stands."""
    with reader_may_leave():
        try:
            args = make_parser().parse_args(argv)
            return args.handler(args)
        except ConfigError as err:
            print(f"chainbench: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # Ctrl-C while a subcommand imports or works: no traceback
            print("chainbench: interrupted", file=sys.stderr)
            return 130
