"""Writing and verifying the chained audit trail of decisions (HMAC-SHA256, keyed with
``TERRITOIRES_AUDIT_KEY``), and the heads published outside the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import insert
from sqlmodel import Session, select

from models.approval import Installation
from models.decision import (
    AuditHead,
    ChainBreak,
    Decision,
    check_published,
    decision_hash,
    decision_hash_of,
    head_seal,
    seal_head,
    verify_chain,
)
from models.errors import DomainError
from models.french import horodatage
from models.keys import AUDIT_CHAIN, mac, subkey
from models.types import utcnow
from services.engine import prefect_api
from services.engine.kind import machine_of
from settings import get_settings

HEAD_ARTIFACT = "piste-audit-tete"  # published on every daily run, outside the application database


@dataclass(frozen=True)
class Actor:
    label: str  # agent email, "système", or the applicant's name
    agent_id: int | None = None


SYSTEM = Actor("système")

# Taking over a past history (the demo's): the decisions recorded inside ``recorded_at(when)`` carry
# that time instead of the clock's. The time is one more hashed field of the row: the chain stays in
# insertion order and ``verify`` checks it like any other.
_RECORDED_AT: ContextVar[datetime | None] = ContextVar("territoires_recorded_at", default=None)


@contextmanager
def recorded_at(when: datetime) -> Iterator[None]:
    if when.tzinfo is None:
        raise ValueError("naive datetime refused: use timezone-aware UTC datetimes")
    token = _RECORDED_AT.set(when.astimezone(UTC))
    try:
        yield
    finally:
        _RECORDED_AT.reset(token)


def _now() -> datetime:
    return _RECORDED_AT.get() or utcnow()


class AuditTampered(DomainError):
    """The head is missing or its seal is wrong: nothing more is written on a forged chain."""

    code = "PISTE_AUDIT_ALTEREE"


def chain_key() -> bytes:
    return subkey(get_settings().audit_key_bytes, AUDIT_CHAIN)


def _locked_head(session: Session, key: bytes) -> AuditHead:
    """The head, locked (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and checked: a
    writer never extends a chain whose head was deleted or rewritten."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        raise AuditTampered(
            f"[{AuditTampered.code}] la tête de la piste d'audit a disparu : aucune décision n'est "
            "enregistrée ; lancez « territoires audit verifier » et prévenez l'administrateur"
        )
    if head.seal != head_seal(head.last_decision_id, head.last_hash, key):
        raise AuditTampered(
            f"[{AuditTampered.code}] le sceau de la tête de la piste d'audit est faux : aucune décision "
            "n'est enregistrée ; lancez « territoires audit verifier » et prévenez l'administrateur"
        )
    return head


def record_decision(
    session: Session,
    *,
    entity_type: str,
    entity_id: int,
    step: str,
    from_status: str | None,
    to_status: str | None,
    actor: Actor,
    decision: str,
    comment: str | None = None,
    amount_cents: int | None = None,
) -> Decision:
    """Appends one row to the chain inside the caller's transaction; concurrent writers append
    one after the other (the head is locked), so the chain never forks."""
    key = chain_key()
    head = _locked_head(session, key)
    row = Decision(
        id=(head.last_decision_id or 0) + 1,
        entity_type=entity_type,
        entity_id=entity_id,
        step=step,
        from_status=None if from_status is None else str(from_status),
        to_status=None if to_status is None else str(to_status),
        actor_agent_id=actor.agent_id,
        actor_label=actor.label,
        decision=decision,
        comment=comment,
        amount_cents=amount_cents,
        created_at=_now(),
        prev_hash=head.last_hash,
    )
    row.row_hash = decision_hash(row, key)
    session.add(row)
    seal_head(head, row.id, row.row_hash, key)
    session.add(head)
    session.flush()
    return row


def record_decisions(session: Session, rows: list[dict]) -> int:
    """Appends many rows at once (batch delegation): one lock of the head, one bulk insert.

    Each dict has the keyword arguments of ``record_decision``."""
    if not rows:
        return 0
    key = chain_key()
    head = _locked_head(session, key)
    now, previous, next_id = _now(), head.last_hash, (head.last_decision_id or 0) + 1
    values = []
    for offset, r in enumerate(rows):
        actor: Actor = r["actor"]
        row = {
            "id": next_id + offset,
            "entity_type": r["entity_type"],
            "entity_id": r["entity_id"],
            "step": r["step"],
            "from_status": None if r.get("from_status") is None else str(r["from_status"]),
            "to_status": None if r.get("to_status") is None else str(r["to_status"]),
            "actor_agent_id": actor.agent_id,
            "actor_label": actor.label,
            "decision": r["decision"],
            "comment": r.get("comment"),
            "amount_cents": r.get("amount_cents"),
            "created_at": now,
            "prev_hash": previous,
        }
        row["row_hash"] = previous = decision_hash_of(row, key)
        values.append(row)
    session.execute(insert(Decision.__table__), values)
    seal_head(head, next_id + len(rows) - 1, previous, key)
    session.add(head)
    session.flush()
    return len(rows)


def verify(session: Session, published: list[tuple[int, str, str]] | None = None) -> tuple[int, list[ChainBreak]]:
    """Checks every link, the head's seal, and each head published outside the database."""
    rows = list(session.exec(select(Decision).order_by(Decision.id)))
    head = session.get(AuditHead, 1)
    return len(rows), verify_chain(rows, head, chain_key()) + check_published(rows, published or [])


def head_artifact(session: Session) -> str:
    """The artifact's key comes from the secret key and this database's installation: one Prefect
    server can serve several databases, and a database whose installation was changed to point the
    check elsewhere finds no published head, which ``audit verify`` reports."""
    instance = session.exec(select(Installation.instance_id)).first() or "inconnue"
    return f"{HEAD_ARTIFACT}-{mac(chain_key(), f'publication:{instance}')[:12]}"


def head_for_publication(session: Session) -> dict:
    """What the daily run publishes outside the database: the last link, once its seal is
    checked (a forged head is never published), and when it was read."""
    key = chain_key()
    head = session.get(AuditHead, 1)
    if head is None or head.seal != head_seal(head.last_decision_id, head.last_hash, key):
        raise AuditTampered(
            f"[{AuditTampered.code}] la tête de la piste d'audit est absente ou son sceau est faux : "
            "elle n'est pas publiée ; lancez « territoires audit verifier »"
        )
    return {
        "decision": head.last_decision_id,
        "empreinte": head.last_hash,
        "publiee_le": horodatage(utcnow()),  # « 7 déc. 2026 14:05 », Paris time
        "artefact": head_artifact(session),
    }


async def publish_head(head: dict) -> None:
    row = {k: v for k, v in head.items() if k != "artefact"}
    await prefect_api.publish_table(
        head["artefact"],
        [row],
        "Tête de la piste d'audit des décisions, publiée hors "
        "de la base de l'application : « territoires audit verifier » la compare à la chaîne",
    )


async def published_heads(artifact: str) -> list[tuple[int, str, str]]:
    """Every head published so far for this database: (decision id, link, when)."""
    heads = []
    for _, rows in await prefect_api.published_tables(artifact):
        heads += [(r.get("decision"), r.get("empreinte"), r.get("publiee_le")) for r in rows if isinstance(r, dict)]
    return heads


def decisions_for(session: Session, entity_type: str, entity_id: int) -> list[Decision]:
    stmt = select(Decision).where(Decision.entity_type == entity_type, Decision.entity_id == entity_id)
    return list(session.exec(stmt.order_by(Decision.id)))


def decision_view(d: Decision) -> dict:
    """One recorded decision as ``ctai show`` and ``ptai show`` print it (JSON keys in French)."""
    return {
        "id": d.id,
        "etape": d.step,
        "de": d.from_status,
        "vers": d.to_status,
        "decision": d.decision,
        "libelle": decision_label(d.entity_type, d.from_status, d.decision),
        "acteur": d.actor_label,
        "commentaire": d.comment,
        "montant_cents": d.amount_cents,
        "horodatage": d.created_at.isoformat(),
    }


class AuditEvent(StrEnum):
    """Audit-only lines the engine and the wings record outside any state machine's table."""

    UNLOCK = "unlock"  # an administrator lifts a blocked agent's answers
    UNLOCK_REFUSED = "unlock_refus"
    REGISTERED = "registered"  # an existing CTAIR taken over by the platform


# Decisions recorded outside any state machine's table (creations, audit-only lines).
AUDIT_ONLY_LABELS = {
    "submitted": "demande déposée",
    "envelope_set": "enveloppe fixée",
    "created": "dossier créé",
    "planned": "comité prévu",
    "minutes": "compte rendu du comité de pilotage",
    "action_flagged": "action à revoir au bilan annuel",
    "action_reviewed": "action examinée en comité",
    "refus": "réponse refusée",
    "bilan_transmitted": "bilan transmis par la collectivité",
    "drafted": "acte rédigé",
    "document_sealed": "acte signé scellé (empreinte SHA-256)",
    "payment_ordered": "paiement ordonné",
    "report_opened": "compte rendu financier attendu",
    AuditEvent.UNLOCK: "déverrouillage des réponses",
    AuditEvent.UNLOCK_REFUSED: "déverrouillage des réponses refusé",
    AuditEvent.REGISTERED: "CTAIR existant enregistré",
}


def decision_label(entity_type: str, from_status: str | None, decision: str) -> str:
    """French label of a recorded decision, from the state machine's table when it is there."""
    machine = machine_of(entity_type) if entity_type != "lot" else None  # a batch's lines keep their codes
    if machine is not None and from_status is not None:
        for t in machine.allowed(from_status):
            if t.decision == decision:
                return t.label
    return AUDIT_ONLY_LABELS.get(decision, decision)
