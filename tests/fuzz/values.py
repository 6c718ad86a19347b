"""The values the generators draw from: a few valid ones (kept tiny, so a correct command
is fast) and hostile ones — out of range, not numbers, absurdly large, paths that cannot be
written, specs that do not parse. Names of folders refer to the sandbox's template
(sandbox.py)."""

from __future__ import annotations

from .choose import Chooser

HUGE = "9" * 30

#: Integers a flag accepts and a tiny run handles in well under a second.
SMALL_INTS = ["1", "2", "3", "4", "8"]
#: Integers (as typed on a command line) no command should choke on: each is refused in one
#: line, or is large and must meet a guard (memory, budget) before anything is allocated.
HOSTILE_INTS = ["0", "-1", "-7", "1000000", "2000000000", "3037000500", "10000000000000",
                HUGE, str(2**63), str(-(2**63)), "nan", "inf", "", "1e3", "0x10", "4.0",
                " 4", "+4", "1_000", "٣"]

#: Widths inside a spec token.
WIDTHS = ["1", "2", "3", "4", "8"]
ACTIVATIONS = ["tanh", "sigmoid", "relu", "sin", "softplus", "elu", "softmax"]
#: Spec tokens that parse and build a tiny layer (on a small input width).
GOOD_TOKENS = ACTIVATIONS + ["conv:1", "conv:3", "grouped:4:2", "grouped:8:4", "grouped:2:1"]
#: Spec tokens that are wrong or absurd.
BAD_TOKENS = ["dense:0", "dense:-3", f"dense:{HUGE}", "dense:20000", "conv:4", "conv:0",
              "conv:-1", "conv:9999999", "grouped:5:2", "grouped:1000000:2", "grouped:4:0",
              "grouped:4", "dense", "dense:", "dense:x", "dense:1.5", "dense:nan", "dense:inf",
              "tanh:3", "foo", "-", "dense:4:4", "DENSE:4", "x" * 300, "dense:٣", "conv:",
              "dense:1e3", "dense:+4", "dense:0x10"]
#: Whole specs that are odd as a whole.
ODD_SPECS = ["", " ", "\t", "dense:4,tanh", "dense:4  tanh", "--n", "dense:4\ndense:1"]

#: Folders and files the sandbox's work folder holds before every case (sandbox.TEMPLATE).
RESULTS_DIRS = ["quick", "beyond", "results/tiny"]
LONG_DIRS = ["q" * 90 + "a", "q" * 90 + "b", "q" * 90 + "c"]
#: Paths a command may be told to write to or read from.
PATHS = ["new", "new/deep/er", "../sibling", "", ".", "afile", "afile/x", "/dev/null/x",
         "/proc/chainbench-fuzz", "x" * 300, "a/" + "b" * 260 + "/c", "ro/x", "empty",
         "notresults", "sp ace", "-", "quick", "results/tiny", "results/accuracy",
         "quick/points.csv", "quick/meta.json", "results/tiny/points.csv", "nonexistent"]


def integer(c: Chooser, hostile: float = 0.3) -> str:
    return c.pick(HOSTILE_INTS) if c.chance(hostile) else c.pick(SMALL_INTS)


def token(c: Chooser, hostile: float = 0.12) -> str:
    if c.chance(hostile):
        return c.pick(BAD_TOKENS)
    kind = c.pick(["dense", "act", "other"])
    if kind == "dense":
        return f"dense:{c.pick(WIDTHS)}"
    return c.pick(ACTIVATIONS) if kind == "act" else c.pick(GOOD_TOKENS)


def spec(c: Chooser) -> str:
    """A chain spec: 1 to 4 tokens, now and then a wholly odd one."""
    if c.chance(0.04):
        return c.pick(ODD_SPECS)
    tokens = [token(c) for _ in range(c.integer(1, 4))]
    if c.chance(0.5):  # most chains end in a dense output layer, as the README's do
        tokens.append(f"dense:{c.pick(['1', '2'])}")
    return " ".join(tokens)


def path(c: Chooser) -> str:
    return c.pick(PATHS)


def results_dir(c: Chooser) -> str:
    """A folder to read results from: mostly a real one, sometimes not one at all."""
    return c.pick(RESULTS_DIRS + LONG_DIRS) if c.chance(0.8) else path(c)


#: Paths that hold another command's data: a writer must refuse them.
DATA_PATHS = ["quick", "results/tiny", "quick/points.csv", "quick/meta.json",
              "results/tiny/points.csv", "results/accuracy/accuracy.csv"]


def out_path(c: Chooser) -> str:
    """Where a writing command is told to write: often onto another command's data."""
    return c.pick(DATA_PATHS) if c.chance(0.4) else path(c)
