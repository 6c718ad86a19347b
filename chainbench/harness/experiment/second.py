"""Second-order points of an experiment: a grid with ``order = 2`` sweeps Hessians or
Hessian-vector products (``quantity``) by chainbench's modes (``HESSIAN_MODES``; an HVP
by the modes ``hvp`` takes) and the second-order peers (``peers.second``). What each
quantity may run is read from those tuples, so a mode added there is accepted here."""

from __future__ import annotations

from ...cost.second_order import HESSIAN_MODES as PRODUCT_MODES
from ...errors import ConfigError
from ...peers.second import HESSIAN, HVP, SECOND_PEERS, peers_of
from ...second_order import HESSIAN_MODES

#: What an order-1 point computes (``Point.quantity``).
FIRST = "jacobian"
#: What an order-2 point computes; the first is a grid's default.
QUANTITIES = (HESSIAN, HVP)
ORDERS = (1, 2)


def modes_for(quantity: str) -> tuple[str, ...]:
    """Every mode a point of ``quantity`` may name: chainbench's, then the peers'."""
    own = HESSIAN_MODES if quantity == HESSIAN else PRODUCT_MODES
    return (*own, *peers_of(quantity))


#: Every mode some second-order point may name.
SECOND_MODES = tuple(dict.fromkeys(m for q in QUANTITIES for m in modes_for(q)))


def is_second(point) -> bool:
    """Whether ``point`` computes a Hessian or an HVP (not a Jacobian)."""
    return point.quantity in QUANTITIES


def is_peer(mode: str) -> bool:
    return mode in SECOND_PEERS


def quantities(grid) -> tuple[str, ...]:
    """The quantities a grid's points compute: ('jacobian',) at order 1."""
    return (grid.quantity or QUANTITIES[:1]) if grid.order == (2,) else (FIRST,)


def check_grid(kw: dict, first_modes, path: str) -> None:
    """ConfigError naming the key when a grid's order, quantity and modes do not fit: one
    order per grid table, a quantity only at order 2, each mode one its quantity runs."""
    order = kw.get("order", (1,))
    if len(set(order)) > 1:
        raise ConfigError(f"{path}: grid.order: one order per [[grid]] table, got "
                          f"{list(order)}; give each order a table of its own")
    if order[0] == 1:
        if "quantity" in kw:
            raise ConfigError(f"{path}: grid.quantity needs order = 2 (Hessians or HVPs); "
                              "leave it out for Jacobians")
        allowed = {"jacobian": tuple(first_modes)}
    else:
        allowed = {q: modes_for(q) for q in kw.get("quantity", QUANTITIES[:1])}
    for quantity, modes in allowed.items():
        for mode in kw.get("modes", ()):
            if mode not in modes:
                what = "a Jacobian" if quantity == "jacobian" else f"order 2 ({quantity})"
                raise ConfigError(f"{path}: grid.modes: {mode!r} is not a mode of {what}; "
                                  f"use one of {', '.join(modes)}")
