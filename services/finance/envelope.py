"""The year's national envelope of PTAI credits, and what is already committed against it: the
lines delegated, and the requests of approved batches not yet delegated."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from models.actors import Agent, Role
from models.delegation import BatchStatus, DelegationBatch, DelegationLine, Envelope
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import format_eur
from models.ptai import PtaiRequest, PtaiStatus
from models.reference import campaign_rules
from models.rules import non_negative_amount, within_ceiling
from models.types import utcnow
from services.db import is_postgresql
from services.engine.audit import Actor, record_decision


def delegated_in(session: Session, year: int) -> int:
    return session.execute(
        select(func.coalesce(func.sum(DelegationLine.ae_cents), 0)).where(DelegationLine.year == year)
    ).scalar_one()


def approved_undelegated(session: Session, year: int, *, but: int | None = None) -> int:
    """What approved batches (``but`` aside) commit and have not delegated yet: their requests
    still in the batch, at their (reduced) amounts."""
    stmt = (
        select(func.coalesce(func.sum(PtaiRequest.proposed_cents), 0))
        .join(DelegationBatch, DelegationBatch.id == PtaiRequest.batch_id)
        .where(
            DelegationBatch.year == year,
            DelegationBatch.status == BatchStatus.APPROVED,
            PtaiRequest.status == PtaiStatus.IN_BATCH,
        )
    )
    if but is not None:
        stmt = stmt.where(DelegationBatch.id != but)
    return session.execute(stmt).scalar_one()


def committed_in(session: Session, year: int) -> int:
    return delegated_in(session, year) + approved_undelegated(session, year)


def envelope_of(session: Session, year: int) -> int | None:
    row = session.get(Envelope, year)
    return row.amount_cents if row else None


def lock_envelope(session: Session, year: int) -> int | None:
    """The envelope, its row locked until the transaction ends (FOR UPDATE on PostgreSQL; on
    SQLite, BEGIN IMMEDIATE already serializes writers): two batches approved at the same time
    are checked one after the other, the second against what the first committed."""
    stmt = select(Envelope.amount_cents).where(Envelope.year == year)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def set_envelope(session: Session, year: int, amount_cents: int, agent_email: str) -> Envelope:
    """Sets the year's envelope, by a ministry officer or an administrator; recorded in the audit trail."""
    rules = campaign_rules(year)
    agent = session.exec(select(Agent).where(Agent.email == agent_email.strip().lower()[:254])).first()
    if agent is None or not agent.active or Role(agent.role) not in (Role.MINISTERE, Role.ADMIN):
        raise RuleViolation(
            [
                Violation(
                    "AGENT_NON_HABILITE",
                    "agent",
                    "seul un agent du ministère (DGEF/DIAN) ou un administrateur, actif, fixe l'enveloppe nationale",
                )
            ]
        )
    violations = non_negative_amount("amount", amount_cents)
    violations += within_ceiling("amount", amount_cents, rules.plafond_enveloppe_cents, "l'enveloppe")
    lock_envelope(session, year)
    delegated = committed_in(session, year)
    if amount_cents < delegated:
        violations.append(
            Violation(
                "ENVELOPPE_INFERIEURE_AU_DELEGUE",
                "amount",
                f"{format_eur(delegated)} sont déjà "
                f"délégués ou engagés par des lots approuvés en {year} : l'enveloppe ne peut pas "
                "descendre en dessous",
            )
        )
    raise_if_any(violations)
    row = session.get(Envelope, year)
    before = row.amount_cents if row is not None else None
    row = row or Envelope(year=year, amount_cents=amount_cents)
    row.amount_cents, row.updated_at = amount_cents, utcnow()
    session.add(row)
    record_decision(
        session,
        entity_type="enveloppe",
        entity_id=year,
        step="enveloppe",
        from_status=None,
        to_status=None,
        actor=Actor(agent.email, agent.id),
        decision="envelope_set",
        amount_cents=amount_cents,
        comment="première fixation" if before is None else f"montant précédent : {format_eur(before)}",
    )
    return row
