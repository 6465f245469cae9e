"""Reading an approval code as the agent does: from the email, rendered from the outbox row."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from models.outbox import OutboxMessage
from notifications.render import render_parts

CODE = re.compile(r"(?:Code d'approbation|Code de déblocage)\s:\s([A-Z0-9]{4}-[A-Z0-9]{4})")


def mailed_code(engine, email: str, event: str = "approval_requested") -> str:
    """The code of the latest ``event`` email queued for ``email`` (the outbox keeps only the
    reference the code is derived from; rendering the email derives it, as the sender does)."""
    with Session(engine) as s:
        row = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.event == event, OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert row is not None, f"no {event} email for {email}"
    _, text, _ = render_parts(row.event, row.context)
    return CODE.search(text).group(1)
