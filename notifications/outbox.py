"""Queueing emails in the caller's transaction, once per idempotency key.

Démarches Simplifiées' rule: an email leaves only after the decision that causes it is
committed. Here the message row is written in the same transaction as the Decision row;
if that transaction rolls back, the message never existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models.actors import Agent, Collectivite
from models.outbox import OutboxMessage, OutboxStatus
from models.types import utcnow
from notifications.events import LETTER, NOTICE, EmailContext
from notifications.render import validate_context


def message_key(entity_type: str, entity_id: int | str, transition: str, recipient: str, kind: str) -> str:
    """``(entity, transition, recipient, kind)``: the same business fact never mails twice."""
    return f"{entity_type}:{entity_id}:{transition}:{recipient.lower()}:{kind}"


@dataclass(frozen=True)
class Email:
    event: str
    recipient: str
    context: dict | EmailContext
    key: str


def queue(session: Session, email: Email) -> bool:
    """Adds one message; returns False when its key was already queued (nothing is added)."""
    return queue_many(session, [email]) == 1


def queue_many(session: Session, emails: list[Email]) -> int:
    """Adds messages in one statement, skipping keys already queued; returns how many were new."""
    if not emails:
        return 0
    now = utcnow()
    contexts = addressed(session, emails)
    rows = [
        {
            "idempotency_key": e.key,
            "event": e.event,
            "recipient": e.recipient,
            "context": validate_context(e.event, context).model_dump(mode="json"),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for e, context in zip(emails, contexts, strict=True)
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = OutboxMessage.__table__
    stmt = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id, sort_by_parameter_order=False)
    )
    # executemany: one compiled statement, sent in batches by SQLAlchemy ("insertmanyvalues").
    return len(session.execute(stmt, rows).all())


def addressed(session: Session, emails: list[Email]) -> list[dict]:
    """Each email's context in the register its recipient reads: a service notice to an agent of
    the State (never « Madame, Monsieur » from their own préfecture), a letter to anyone else,
    which opens with the collectivité's appellation when it has one (« Madame la maire »)."""
    addresses = {e.recipient.lower() for e in emails}
    agents = set(session.exec(select(func.lower(Agent.email)).where(func.lower(Agent.email).in_(addresses))).all())
    appellations = dict(
        session.exec(
            select(func.lower(Collectivite.email), Collectivite.appellation).where(
                func.lower(Collectivite.email).in_(addresses), Collectivite.appellation.is_not(None)
            )
        ).all()
    )
    out = []
    for e in emails:
        given = e.context.model_dump(exclude_unset=True) if isinstance(e.context, EmailContext) else dict(e.context)
        recipient = e.recipient.lower()
        given.setdefault("registre", NOTICE if recipient in agents else LETTER)
        if given["registre"] == LETTER and recipient in appellations:
            given.setdefault("appel", appellations[recipient])
        out.append(given)
    return out
