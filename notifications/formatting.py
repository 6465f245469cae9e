"""French formats for emails: "150 000 €", "21 octobre 2021", "4 novembre 2021 à 18 h 00"."""

from __future__ import annotations

from datetime import date, datetime

from models.money import format_eur
from models.types import to_paris

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def date_fr(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = to_paris(value).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def datetime_fr(value: datetime | str) -> str:
    """Shown in Europe/Paris, whatever the stored zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = to_paris(value)
    return f"{date_fr(local.date())} à {local.hour} h {local.minute:02d}"


def eur(cents: int) -> str:
    return format_eur(cents)


def p104(action: int) -> str:
    return {12: "action 12 (primo-arrivants)", 15: "action 15 (réfugiés)"}.get(action, f"action {action}")
