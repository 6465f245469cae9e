"""Writing and verifying the chained audit trail of decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import Session, select

from models.ctai import CTAI_MACHINE
from models.decision import AuditHead, ChainBreak, Decision, decision_hash, decision_hash_of, verify_chain
from models.ptai import PTAI_MACHINE
from models.types import utcnow


@dataclass(frozen=True)
class Actor:
    label: str  # agent email, "système", or the applicant's name
    agent_id: int | None = None


SYSTEM = Actor("système")


def record_decision(session: Session, *, entity_type: str, entity_id: int, step: str,
                    from_status: str | None, to_status: str | None, actor: Actor, decision: str,
                    comment: str | None = None, amount_cents: int | None = None) -> Decision:
    """Appends one row to the chain inside the caller's transaction.

    The head row is locked first (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so
    concurrent writers append one after the other and the chain never forks.
    """
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    row = Decision(
        id=(head.last_decision_id or 0) + 1,
        entity_type=entity_type, entity_id=entity_id, step=step,
        from_status=None if from_status is None else str(from_status),
        to_status=None if to_status is None else str(to_status),
        actor_agent_id=actor.agent_id, actor_label=actor.label, decision=decision,
        comment=comment, amount_cents=amount_cents, created_at=utcnow(), prev_hash=head.last_hash,
    )
    row.row_hash = decision_hash(row)
    session.add(row)
    head.last_decision_id, head.last_hash = row.id, row.row_hash
    session.add(head)
    session.flush()
    return row


def record_decisions(session: Session, rows: list[dict]) -> int:
    """Appends many rows at once (batch delegation): one lock of the head, one bulk insert.

    Each dict has the keyword arguments of ``record_decision``."""
    if not rows:
        return 0
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    now, previous, next_id = utcnow(), head.last_hash, (head.last_decision_id or 0) + 1
    values = []
    for offset, r in enumerate(rows):
        actor: Actor = r["actor"]
        row = {"id": next_id + offset, "entity_type": r["entity_type"], "entity_id": r["entity_id"], "step": r["step"],
               "from_status": None if r.get("from_status") is None else str(r["from_status"]),
               "to_status": None if r.get("to_status") is None else str(r["to_status"]),
               "actor_agent_id": actor.agent_id, "actor_label": actor.label, "decision": r["decision"],
               "comment": r.get("comment"), "amount_cents": r.get("amount_cents"), "created_at": now,
               "prev_hash": previous}
        row["row_hash"] = previous = decision_hash_of(row)
        values.append(row)
    session.execute(insert(Decision.__table__), values)
    head.last_decision_id, head.last_hash = next_id + len(rows) - 1, previous
    session.add(head)
    session.flush()
    return len(rows)


def verify(session: Session) -> tuple[int, list[ChainBreak]]:
    rows = list(session.exec(select(Decision).order_by(Decision.id)))
    head = session.get(AuditHead, 1)
    return len(rows), verify_chain(rows, head)


def decisions_for(session: Session, entity_type: str, entity_id: int) -> list[Decision]:
    stmt = select(Decision).where(Decision.entity_type == entity_type, Decision.entity_id == entity_id)
    return list(session.exec(stmt.order_by(Decision.id)))


def decision_view(d: Decision) -> dict:
    """One recorded decision as ``ctai show`` and ``ptai show`` print it (JSON keys in French)."""
    return {
        "id": d.id, "etape": d.step, "de": d.from_status, "vers": d.to_status, "decision": d.decision,
        "libelle": decision_label(d.entity_type, d.from_status, d.decision),
        "acteur": d.actor_label, "commentaire": d.comment, "montant_cents": d.amount_cents,
        "horodatage": d.created_at.isoformat(),
    }


def decision_label(entity_type: str, from_status: str | None, decision: str) -> str:
    """French label of a recorded decision, from the state machine's table when it is there."""
    machine = {"ctai": CTAI_MACHINE, "ptai": PTAI_MACHINE}.get(entity_type)
    if machine is not None and from_status is not None:
        for t in machine.allowed(from_status):
            if t.decision == decision:
                return t.label
    return {"submitted": "demande déposée"}.get(decision, decision)
