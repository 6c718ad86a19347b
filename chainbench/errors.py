"""The errors chainbench raises on purpose: ``ConfigError`` for input a user must fix (the
command line prints it in one line and exits 2), and why an engine cannot differentiate a
chain at all, as opposed to a bad argument.

``Unsupported`` is what a sweep turns into a skipped point with the message as its reason:
a chain with a layer the complex step cannot see through, or an optional peer (JAX,
PyTorch, autograd) that is not installed or has no rule for a layer.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """An experiment file or option that cannot be used; the message names what to fix."""


class Unsupported(Exception):
    """This mode cannot differentiate this chain here; the message says why and what to do."""


class NotComplexSafe(Unsupported, ValueError):
    """The complex step needs an analytic value rule in every layer; a layer has none."""


class PeerUnavailable(Unsupported, ImportError):
    """An optional peer AD tool is not installed (the message names the pip command), or
    cannot express a layer of the chain."""


class TooLarge(ConfigError, MemoryError):
    """An output (a dense Jacobian, a sparsity pattern) that would not fit in the memory this
    process has; the message gives its size and what to ask for instead."""
