"""One look per mode, the same in every figure: a colour, a marker and a line style.

chainbench's own AD modes take the Okabe–Ito colours (told apart by readers with any common
colour-vision deficiency) with filled markers and solid lines; the peer tools take Paul Tol's
muted colours with hollow markers and dashed (jacfwd) or dotted (jacrev) lines, so that in grey
print the two families still differ by fill and dash; the numerical differences are greys with
line-drawn markers. A mode's look depends on its name and the registry alone, never on which
other modes a figure happens to hold, so forward is the same blue everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engines.registry import ENGINES
from ..peers.second import SECOND_PEERS

#: chainbench's AD modes (Okabe & Ito 2008), in registry order; 'auto' is the time model's pick.
_AD = {
    "forward": ("#0072B2", "o"),
    "reverse": ("#D55E00", "s"),
    "optimal": ("#009E73", "^"),
    "optimal-madds": ("#CC79A7", "v"),
    "sqrt-checkpoint": ("#E69F00", "D"),
    "revolve": ("#56B4E9", "P"),
    "auto": ("#000000", "X"),
    # the compressed sweeps: forward's and reverse's hues, darker, and their own markers
    "sparse-forward": ("#004B7A", "<"),
    "sparse-reverse": ("#8F3E00", ">"),
    # the operation-level engines: forward's and reverse's hues, lighter
    "op-forward": ("#6FB7E4", "p"),
    "op-reverse": ("#F29A66", "h"),
    # second order (Hessians, HVPs): the mixed modes take forward's and reverse's hues'
    # neighbours, hyper-dual numbers a grey-blue, the bracketing optimal's green
    "forward-over-reverse": ("#0072B2", "o"),
    "reverse-over-forward": ("#D55E00", "s"),
    "reverse-over-reverse": ("#B84A00", "v"),
    "forward-over-forward": ("#56B4E9", "D"),
    "hessian-optimal": ("#009E73", "^"),
}
#: The peers' frameworks (Tol's muted scheme); the marker tells the transformation.
_FRAMEWORKS = {"jax": "#117733", "torch": "#882255", "torch-compile": "#CC6677",
               "autograd": "#332288", "asdex": "#999933"}
_NUMERICAL = {"fd-forward": ("0.45", "x"), "fd-central": ("0.25", "+"),
              "complex-step": ("0.6", "*")}
#: Anything else (a mode added later): distinct greys and markers, chosen by registry position.
_SPARE = (("#44AA99", "h"), ("#999933", "p"), ("#AA4499", "8"), ("#661100", "d"))


@dataclass(frozen=True)
class Look:
    color: str
    marker: str
    filled: bool
    ls: str
    family: str  # 'ad', 'peer', 'numerical' or 'other'

    def line(self, **extra) -> dict:
        """Keyword arguments of ``Axes.plot`` for a line with markers in this look."""
        face = self.color if self.filled else "white"
        return {"color": self.color, "marker": self.marker, "ls": self.ls, "mfc": face,
                "mec": self.color, **extra}

    def points(self, **extra) -> dict:
        """Keyword arguments of ``Axes.scatter`` for markers alone in this look."""
        face = self.color if self.filled else "none"
        return {"marker": self.marker, "facecolors": face, "edgecolors": self.color,
                "linewidths": 1.2, **extra}


def look(mode: str) -> Look:
    """The look of ``mode`` (an engine name, or 'auto')."""
    if mode in _AD:
        color, marker = _AD[mode]
        return Look(color, marker, True, "-", "ad")
    engine = ENGINES.get(mode)
    if engine is not None and engine.family == "peer":
        framework = "torch-compile" if mode.startswith("torch-compile") else mode.split("-")[0]
        forward = engine.algorithm == "forward"
        return Look(_FRAMEWORKS.get(framework, "#DDCC77"), "^" if forward else "v", False,
                    "--" if forward else ":", "peer")
    second = SECOND_PEERS.get(mode)
    if second is not None:  # a second-order peer: its framework's colour, dashed for H
        hessian = second.quantity == "hessian"
        return Look(_FRAMEWORKS.get(mode.split("-")[0], "#DDCC77"), "^" if hessian else "v",
                    False, "--" if hessian else ":", "peer")
    if mode in _NUMERICAL:
        color, marker = _NUMERICAL[mode]
        return Look(color, marker, True, "-.", "numerical")
    names = list(ENGINES)
    color, marker = _SPARE[(names.index(mode) if mode in names else len(mode)) % len(_SPARE)]
    return Look(color, marker, False, "-.", "other")


def mode_color(mode: str) -> str:
    return look(mode).color


_ORDER = [*_AD, *(name for name in ENGINES if name not in _AD)]


def mode_order(mode: str) -> tuple:
    """chainbench's modes first (registry order), then the numerical ones and the peers."""
    return (_ORDER.index(mode) if mode in _ORDER else len(_ORDER), mode)
