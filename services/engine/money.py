"""The money chain as the engine sees it: a decision declared ``grants`` draws up the legal acts
of what it funds, and a change of a granted amount keeps R13's acts true, in the decision's
transaction.

The wings that own acts and amounts (``services.acts``, ``services.finance``) connect their
functions here; ``services.cases``, the one place that knows every wing, wires them, so that a
contract's or a request's wing never imports another wing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module

from sqlmodel import Session

# The keyword each function of the chain takes the ids of an entity's cases by.
IDS_OF = {"ctai": "ctai_ids", "ptai": "ptai_request_ids"}

_chain: dict[str, Callable[..., object]] = {}


def connect(*, draw_up: Callable[..., list[int]], recompute: Callable[..., None]) -> None:
    """``draw_up(session, ctai_ids=…, ptai_request_ids=…)`` drafts the acts these grants call for;
    ``recompute(session, …)`` recomputes the act (R13) of every line they touch."""
    _chain.update(draw_up=draw_up, recompute=recompute)


def _link(name: str) -> Callable[..., object]:
    if name not in _chain:
        import_module("services.cases")  # wires the chain (see the module's docstring)
    return _chain[name]


def granted(session: Session, entity: str, entity_id: int) -> list[int]:
    """The acts drawn up (or changed) for what this case's decision grants: their ids."""
    return list(_link("draw_up")(session, **{IDS_OF[entity]: [entity_id]}) or [])


def amounts_changed(session: Session, *, ctai_ids: Iterable[int] = (), ptai_request_ids: Iterable[int] = ()) -> None:
    """These contracts' or requests' amounts changed: the act of each line they touch follows (R13)."""
    _link("recompute")(session, ctai_ids=ctai_ids, ptai_request_ids=ptai_request_ids)
