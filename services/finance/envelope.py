"""The year's national envelope of PTAI credits, and what is already delegated against it."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from models.actors import Agent, Role
from models.delegation import DelegationLine, Envelope
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import format_eur
from models.reference import campaign_rules
from models.rules import non_negative_amount, within_ceiling
from models.types import utcnow
from services.engine.audit import Actor, record_decision


def delegated_in(session: Session, year: int) -> int:
    return session.execute(select(func.coalesce(func.sum(DelegationLine.ae_cents), 0)).where(DelegationLine.year == year)).scalar_one()


def envelope_of(session: Session, year: int) -> int | None:
    row = session.get(Envelope, year)
    return row.amount_cents if row else None


def set_envelope(session: Session, year: int, amount_cents: int, agent_email: str) -> Envelope:
    """Sets the year's envelope, by a ministry officer or an administrator; recorded in the audit trail."""
    rules = campaign_rules(year)
    agent = session.exec(select(Agent).where(Agent.email == agent_email.strip().lower()[:254])).first()
    if agent is None or not agent.active or Role(agent.role) not in (Role.MINISTERE, Role.ADMIN):
        raise RuleViolation([Violation("AGENT_NON_HABILITE", "agent", "seul un agent du ministère (DGEF/DIAN) ou un "
                                                                       "administrateur, actif, fixe l'enveloppe nationale")])
    violations = non_negative_amount("amount", amount_cents)
    violations += within_ceiling("amount", amount_cents, rules.plafond_enveloppe_cents, "l'enveloppe")
    delegated = delegated_in(session, year)
    if amount_cents < delegated:
        violations.append(Violation("ENVELOPPE_INFERIEURE_AU_DELEGUE", "amount", f"{format_eur(delegated)} sont déjà "
                                    f"délégués en {year} : l'enveloppe ne peut pas descendre en dessous"))
    raise_if_any(violations)
    row = session.get(Envelope, year)
    before = row.amount_cents if row is not None else None
    row = row or Envelope(year=year, amount_cents=amount_cents)
    row.amount_cents, row.updated_at = amount_cents, utcnow()
    session.add(row)
    record_decision(session, entity_type="enveloppe", entity_id=year, step="enveloppe", from_status=None, to_status=None,
                    actor=Actor(agent.email, agent.id), decision="envelope_set", amount_cents=amount_cents,
                    comment="première fixation" if before is None else f"montant précédent : {format_eur(before)}")
    return row
