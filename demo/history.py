"""The demo's past, dated as the sources date it; what they do not date is FICTITIOUS and says so.

A decision recorded inside ``on(day)`` carries that day (noon, Paris time, stored in UTC) in the
audit trail (``services.engine.audit.recorded_at``): the time is a recorded field like any other,
the chain keeps its insertion order and ``territoires audit verify`` checks it as usual. A decision
whose date no source gives is signed ``FICTIVE`` and its comment says « date fictive »; one the
sources date (the Poitiers signature, 21 October 2021) is signed ``SOURCED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

from models.types import PARIS
from services.engine.audit import Actor, recorded_at

SOURCED = Actor("reprise de l'historique (démo)")
FICTIVE = Actor("reprise de l'historique (démo, date fictive)")
FICTIVE_NOTE = "date fictive : les sources ne la donnent pas"


def noon(day: date) -> datetime:
    """Noon of ``day`` in Paris, as an aware UTC datetime."""
    return datetime.combine(day, time(12), PARIS).astimezone(UTC)


@contextmanager
def on(day: date) -> Iterator[None]:
    with recorded_at(noon(day)):
        yield


def actor(sourced: bool) -> Actor:
    return SOURCED if sourced else FICTIVE


def note(text: str | None, sourced: bool) -> str | None:
    """A history decision's comment; a fictitious date says so."""
    if sourced:
        return text
    return f"{text} ({FICTIVE_NOTE})" if text else FICTIVE_NOTE.capitalize()
