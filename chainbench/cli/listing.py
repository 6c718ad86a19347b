"""``chainbench list [experiments | layers | modes]``: what there is to run, one line each."""

from __future__ import annotations

WHAT = ("experiments", "layers", "modes")


def register(sub):
    parser = sub.add_parser("list", help="list the shipped experiments, the layers or the modes",
                            description="List the experiments shipped with chainbench (the "
                                        "default), the layers a spec may name, or the modes.")
    parser.add_argument("what", nargs="?", default="experiments", choices=WHAT,
                        help="what to list (default: experiments)")
    return parser


def run(args) -> int:
    return {"experiments": _experiments, "layers": _layers, "modes": _modes}[args.what]()


def _experiments() -> int:
    from ..harness.experiment import config
    for name, path in config.shipped().items():
        exp = config.load(path)
        print(f"{name:18s} {len(exp.points()):4d} points  {exp.description}")
    return 0


def _layers() -> int:
    from ..model.layers import LAYERS

    for cls in LAYERS.values():
        token = cls.token()
        notes = "" if cls.complex_safe else "  (no complex rule: the complex step refuses it)"
        print(f"{token:14s} {cls.__name__}{notes}")
    return 0


def _modes() -> int:
    from ..engines.registry import ENGINES

    for name, engine in ENGINES.items():
        print(f"{name:16s} {engine.family:9s} {engine.summary}")
    print(f"{'auto':16s} {'ad':9s} the pure mode the time model predicts faster here")
    return 0
