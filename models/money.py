"""Money is integer cents in storage and ``Decimal`` euros at the edges; never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_TYPED = re.compile(r"^-?\d{1,12}([.,]\d{1,2})?$")


def parse_euros(text: str) -> Decimal:
    """An amount as people type it: ``9000000``, ``9 000 000``, ``1 234,50``. No exponent, no
    NaN, at most twelve digits before the decimal mark and two after; ValueError otherwise."""
    compact = "".join(text.split()).replace("\u202f", "").replace("\u00a0", "")
    if len(compact) > 20 or not _TYPED.match(compact):
        raise ValueError(f"montant illisible : {text[:30]!r} (par exemple 9000000 ou 1 234,50)")
    return Decimal(compact.replace(",", "."))


def euros_to_cents(value: Decimal | int | str) -> int:
    if isinstance(value, float):
        raise TypeError("float amounts are refused: use Decimal or a string")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"montant illisible : {value!r}") from exc
    if amount != amount.quantize(CENT):
        raise ValueError(f"montant au-delà du centime : {value}")
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def cents_to_euros(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_eur(cents: int, *, centimes: bool = False) -> str:
    """French format (Babel, fr_FR): « 150 000 € », « 1 234,50 € »; with ``centimes``, the cents
    always shown (« 7 500,00 € »: acts, tables). Thousands are grouped with a narrow no-break space
    (U+202F), the euro sign follows a no-break space (U+00A0)."""
    from babel.numbers import format_currency

    amount = Decimal(cents) / 100
    if centimes or cents % 100:
        return format_currency(amount, "EUR", locale="fr_FR")
    return format_currency(amount, "EUR", format="#,##0\u00a0¤", locale="fr_FR", currency_digits=False)
