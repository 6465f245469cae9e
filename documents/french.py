"""French typography proper to the acts: percentages, article numbers, places, SIRET.

Dates, amounts and capitals are written as everywhere else (``models.french``: ``date_fr``,
``initiale``, ``en_cours_de_phrase``; ``models.money.format_eur``, with the cents, as an act
always shows them).
"""

from __future__ import annotations

from decimal import Decimal

from models.french import NBSP, NNBSP


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


def siret(number: str) -> str:
    """« 123 456 789 00012 » (SIREN in threes, then the NIC); anything else as given."""
    digits = "".join(number.split())
    if len(digits) == 14 and digits.isdigit():
        return NBSP.join((digits[0:3], digits[3:6], digits[6:9], digits[9:]))
    return number
