"""``chainbench plan SPEC --n N``: the optimal bracketing of a chain's Jacobian; with
``--mode MODE``, the plan that mode runs on the chain, pass by pass."""

from __future__ import annotations

import sys

from ._format import chain_shape


def register(sub):
    p = sub.add_parser("plan", help="the optimal bracketing of a chain's Jacobian",
                       description="Print the cheapest way to accumulate the Jacobian "
                       "(tangents, adjoints, explicit Jacobians, block products) with its "
                       "multiply-adds beside pure forward and pure reverse mode.")
    p.add_argument("spec", help='chain spec, e.g. "dense:1000 dense:10 dense:1000 dense:1000"')
    p.add_argument("--n", type=int, required=True, help="input width")
    p.add_argument("--mode", default=None,
                   help="print the plan this mode runs (its passes: rule, layer, lanes, "
                   "multiply-adds, bytes, count) instead of the bracketing")
    p.add_argument("--chunk", type=int, default=None, help="lanes per sweep, with --mode")
    return p


def run(args) -> int:
    from ..cost.plan import plan, pure_costs
    from ..cost.sweeps import engine_costs, pure_engine

    shape = chain_shape(args.spec, args.n)
    if args.mode is not None or args.chunk is not None:
        return _mode_plan(shape, args.mode, args.chunk)
    best = plan(shape)
    forward, reverse = pure_costs(shape)
    engine_fwd, engine_rev = engine_costs(shape)
    K = shape.depth
    print(f"widths   {'→'.join(map(str, shape.widths))}")
    print(f"optimal  {best.total:12.4g} multiply-adds  {best.expression()}")
    print(f"forward  {forward:12.4g} multiply-adds  ({forward / best.total:.3g}× the optimum; "
          "textbook, from the identity)")
    print(f"reverse  {reverse:12.4g} multiply-adds  ({reverse / best.total:.3g}× the optimum; "
          "textbook, from the identity)")
    how = (f"fwd[2..{K}](J1) and rev[1..{K - 1}](J{K})" if K > 1 else "J1 written out")
    print(f"mode=forward {engine_fwd:.4g} ({engine_fwd / best.total:.3g}×), mode=reverse "
          f"{engine_rev:.4g} ({engine_rev / best.total:.3g}×): chainbench's pure modes start "
          f"from J1's columns or J{K}'s rows, {how}")
    engine = pure_engine(shape)
    if engine is not None:
        print(f"mode=optimal-madds runs mode={engine} here: its sweeps already cost the "
              "optimum")
    _by_time(shape)
    print("layers are numbered 1..K from the input; fwd[i..j](X) pushes X's columns through "
          "layers i..j, rev[i..j](X) pulls X's rows back through them, Jk is layer k's "
          "Jacobian written out, (A × B) a block product")
    return 0


def _mode_plan(shape, mode, chunk) -> int:
    """The plan ``mode`` (a strategy: its pick here) runs on a chain of ``shape``."""
    from ..bound import plan_of
    from ..errors import ConfigError
    from ..strategies import resolve

    if mode is None:
        raise ConfigError("--chunk goes with --mode; name the mode whose plan to print")
    try:
        impl, lanes = resolve(shape, mode, chunk)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err).replace("chunk=None", "--chunk out")) from None
    if impl.name != mode:
        print(f"mode={mode!r} runs mode={impl.name!r} at chunk {lanes} here")
    print(plan_of(shape, impl, lanes, {}))
    return 0


def _by_time(shape) -> None:
    """The plan mode=optimal runs: the one predicted fastest on this machine."""
    from .. import api
    from ..cost.optimal import time_choice
    from ..cost.sweeps import PURE_MODE
    from ..machine.current import current_profile
    from ._format import seconds

    profile = current_profile(announce=lambda message: print(message, file=sys.stderr))
    choice = time_choice(shape, profile)
    times = {mode: api.predict_time(shape, mode, profile=profile).seconds
             for mode in ("optimal", "optimal-madds", "forward", "reverse")}
    runs = "" if choice.pure is None else f": runs mode={PURE_MODE[choice.pure]} here"
    print(f"by predicted time {seconds(times['optimal'])}  {choice.expression()}  "
          f"(mode=optimal, this machine{runs})")
    print("predicted here: " + ", ".join(f"{mode} {seconds(t)}" for mode, t in times.items()))
