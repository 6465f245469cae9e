"""French typography for the acts: dates, amounts with cents, percentages, places.

Thousands are grouped with a narrow no-break space (U+202F) and the euro sign follows a no-break
space (U+00A0), as in ``models.money.format_eur``; an act always shows the cents.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

NNBSP = "\u202f"  # narrow no-break space: thousands, before « % »
NBSP = "\u00a0"  # no-break space: before « € »

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


def date_fr(day: date) -> str:
    """« 21 octobre 2021 », « 1er juillet 2021 »."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def format_eur_full(cents: int) -> str:
    """« 50 000,00 € », « 1 234,50 € », « -12,00 € »: the cents always shown."""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", NNBSP)
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d}{NBSP}€"


def percent(part: Decimal | float | int) -> str:
    """A share of the grant: ``Decimal("0.5")`` → « 50 % », ``Decimal("0.333")`` → « 33,3 % »."""
    value = (Decimal(str(part)) * 100).quantize(Decimal("0.1")).normalize()
    text = f"{value:f}".replace(".", ",")
    return f"{text}{NNBSP}%"


def ordinal(number: int) -> str:
    """How an article is numbered: « 1er », « 2 », « 3 »…"""
    return "1er" if number == 1 else str(number)


def a_lieu(place: str) -> str:
    """« à Poitiers », « à La Rochelle », but « au Mans », « au Puy-en-Velay », « aux Abymes »."""
    if place.startswith("Le "):
        return f"au {place[3:]}"
    if place.startswith("Les "):
        return f"aux {place[4:]}"
    return f"à {place}"


def lcfirst(text: str) -> str:
    """« Pour le préfet… » → « pour le préfet… » mid-sentence; an acronym (« DDETS ») stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def ucfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def siret(number: str) -> str:
    """« 123 456 789 00012 » (SIREN in threes, then the NIC); anything else as given."""
    digits = "".join(number.split())
    if len(digits) == 14 and digits.isdigit():
        return NBSP.join((digits[0:3], digits[3:6], digits[6:9], digits[9:]))
    return number
