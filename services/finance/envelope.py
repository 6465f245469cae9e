"""The year's national envelope of PTAI credits, and what is already delegated against it."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from models.delegation import DelegationLine, Envelope
from models.errors import RuleViolation, Violation


def delegated_in(session: Session, year: int) -> int:
    return session.execute(select(func.coalesce(func.sum(DelegationLine.ae_cents), 0)).where(DelegationLine.year == year)).scalar_one()


def envelope_of(session: Session, year: int) -> int | None:
    row = session.get(Envelope, year)
    return row.amount_cents if row else None


def set_envelope(session: Session, year: int, amount_cents: int) -> Envelope:
    if amount_cents < 0:
        raise RuleViolation([Violation("MONTANT_NEGATIF", "amount", "l'enveloppe ne peut pas être négative")])
    row = session.get(Envelope, year) or Envelope(year=year, amount_cents=amount_cents)
    row.amount_cents = amount_cents
    session.add(row)
    return row
