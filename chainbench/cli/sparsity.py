"""``chainbench sparsity SPEC --n N``: a chain's Jacobian pattern and its colorings."""

from __future__ import annotations

from ._format import chain_shape


def register(sub):
    p = sub.add_parser("sparsity", help="a chain's Jacobian pattern and its colorings",
                       description="Print the structural nonzeros of the chain's Jacobian and "
                       "the colors of its columns (sparse-forward's lanes) and rows "
                       "(sparse-reverse's), each against its lower bound.")
    p.add_argument("spec", help='chain spec, e.g. "conv:5 tanh conv:5"')
    p.add_argument("--n", type=int, required=True, help="input width")
    return p


def run(args) -> int:
    from ..cost.coloring import coloring
    from ..model.sparsity import nonzeros

    shape = chain_shape(args.spec, args.n)
    nnz = nonzeros(shape)
    print(f"widths    {'→'.join(map(str, shape.widths))}")
    print(f"nonzeros  {nnz} of {shape.m * shape.n} ({nnz / (shape.m * shape.n):.3g})")
    for side, mode, lanes in (("columns", "sparse-forward", shape.n),
                              ("rows", "sparse-reverse", shape.m)):
        c = coloring(shape, side)
        print(f"{side:8s}  {c.count} colors (lower bound {c.lower_bound}, {c.order} order): "
              f"{mode} takes {c.count} lanes where a dense mode takes {lanes}")
    return 0
