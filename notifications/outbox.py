"""Queueing emails in the caller's transaction, once per idempotency key.

Démarches Simplifiées' rule: an email leaves only after the decision that causes it is
committed. Here the message row is written in the same transaction as the Decision row;
if that transaction rolls back, the message never existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.outbox import OutboxMessage, OutboxStatus
from models.types import utcnow
from notifications.events import EmailContext
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
    rows = [{
        "idempotency_key": e.key,
        "event": e.event,
        "recipient": e.recipient,
        "context": validate_context(e.event, e.context).model_dump(mode="json"),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    } for e in emails]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = OutboxMessage.__table__
    stmt = (dialect.insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(table.c.id, sort_by_parameter_order=False))
    # executemany: one compiled statement, sent in batches by SQLAlchemy ("insertmanyvalues").
    return len(session.execute(stmt, rows).all())
