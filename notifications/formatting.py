"""French formats for emails: "150 000 €", "21 octobre 2021", "4 novembre 2021 à 18 h 00" (the dates
from ``models.french``, the amounts from ``models.money``)."""

from __future__ import annotations

from models.french import date_fr, datetime_fr
from models.money import format_eur

__all__ = ["date_fr", "datetime_fr", "eur", "p104"]  # the emails' filters (models.french writes dates)


eur = format_eur


def p104(action: int) -> str:
    return {12: "action 12 (primo-arrivants)", 15: "action 15 (réfugiés)"}.get(action, f"action {action}")
