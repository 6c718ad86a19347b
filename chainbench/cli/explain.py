"""``chainbench explain SPEC --n N [--m M] [--mode MODE] [--chunk C] [--out FIG.png]``:
where one Jacobian call's time goes, its plan run pass by pass (see docs/explain.md)."""

from __future__ import annotations

import sys

from ._format import chain_shape, out_path


def register(sub):
    p = sub.add_parser("explain", help="one call's passes timed alone beside their prices",
                       description="Run the plan of one mode on one chain pass by pass, each "
                       "pass timed alone at its sizes beside the time model's price for it, "
                       "the rate it reached, what bounds it and the memory level it lives "
                       "in; then the whole call timed beside the sum of its passes and the "
                       "predicted total.")
    p.add_argument("spec", help='chain spec, e.g. "dense:1024 tanh dense:1024 dense:1"')
    p.add_argument("--n", type=int, required=True, help="input width")
    p.add_argument("--m", type=int, default=None,
                   help="output width: appends a dense:M output layer to the spec")
    p.add_argument("--mode", default="auto", help="the mode (default auto: its pick here)")
    p.add_argument("--chunk", type=int, default=None, help="lanes per sweep")
    p.add_argument("--out", type=out_path, default=None, metavar="FIG.png",
                   help="also write the figure: per-pass bars and a roofline panel")
    return p


def run(args) -> int:
    from ..bound import bind, plan_of
    from ..errors import ConfigError
    from ..explain import explain, memory_needed
    from ..machine.own_costs import ensure_overheads
    from ..model.chain import Chain
    from ..provenance import require_memory
    from ..strategies import resolve

    spec = args.spec if args.m is None else f"{args.spec} dense:{args.m}"
    shape = chain_shape(spec, args.n)
    try:
        impl, lanes = resolve(shape, args.mode, args.chunk)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err).replace("chunk=None", "--chunk out")) from None
    plan = plan_of(shape, impl, lanes, {})
    profile = ensure_overheads(lambda message: print(message, file=sys.stderr))
    # before the chain's parameters are drawn: the call's buffers and each pass's own
    require_memory(memory_needed(plan, profile), f"explaining mode={impl.name!r}",
                   "explain a smaller chain or a smaller --chunk")
    chain = Chain.from_spec(spec, args.n)
    try:
        bound = bind(chain, args.mode, args.chunk)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    print("timing each pass alone (a few seconds; kernels compile on first use) …",
          file=sys.stderr)
    ex = explain(bound, profile)
    print(ex)
    if args.out is not None:
        from ..plots.explain import explain_figure

        args.out.parent.mkdir(parents=True, exist_ok=True)
        explain_figure(ex).savefig(args.out, dpi=120, bbox_inches="tight")
        print(f"figure: {args.out}")
    return 0
