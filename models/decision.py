"""The audit trail: one Decision row per transition, chained by SHA-256.

Each row stores the hash of the previous row and its own hash over its content, so editing,
inserting or deleting any row breaks the chain (``territoires audit verify``). The database
also refuses UPDATE and DELETE on the table (triggers in the migration).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Column, Field, SQLModel

from models.types import UtcDateTime, utcnow

GENESIS_HASH = "0" * 64


class Decision(SQLModel, table=True):
    __table_args__ = (Index("ix_decision_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=20)  # "ctai", "ptai", "batch"
    entity_id: int
    step: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str | None = Field(default=None, max_length=40)
    actor_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    actor_label: str = Field(max_length=254)  # agent email, "système" or the applicant
    decision: str = Field(max_length=40)
    comment: str | None = None
    amount_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's last link. Locked by each writer, so the chain stays a line; also lets
    ``verify`` notice a deleted last row."""

    id: int = Field(default=1, primary_key=True)
    last_decision_id: int | None = None
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)


HASHED_FIELDS = (
    "id", "entity_type", "entity_id", "step", "from_status", "to_status", "actor_agent_id",
    "actor_label", "decision", "comment", "amount_cents", "created_at", "prev_hash",
)


def decision_hash(row: Decision) -> str:
    return decision_hash_of({name: getattr(row, name) for name in HASHED_FIELDS})


def decision_hash_of(values: dict) -> str:
    """The row hash from the hashed fields' values (no ORM object needed: bulk appends)."""
    payload = {}
    for name in HASHED_FIELDS:
        value = values.get(name)
        payload[name] = value.isoformat() if isinstance(value, datetime) else value
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    decision_id: int | None
    reason: str  # French, for the operator

    def as_dict(self) -> dict:
        return {"decision_id": self.decision_id, "reason": self.reason}


def verify_chain(rows: list[Decision], head: AuditHead | None) -> list[ChainBreak]:
    """Pure check of the chain, rows in id order. Empty list means intact."""
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    for row in rows:
        if row.prev_hash != previous:
            breaks.append(ChainBreak(row.id, "le maillon précédent ne correspond pas (ligne supprimée ou insérée)"))
        if decision_hash(row) != row.row_hash:
            breaks.append(ChainBreak(row.id, "le contenu de la ligne a été modifié après son enregistrement"))
        previous = row.row_hash
    last_id = rows[-1].id if rows else None
    if head is not None and (head.last_decision_id != last_id or head.last_hash != previous):
        breaks.append(ChainBreak(head.last_decision_id, "la tête de chaîne ne correspond pas à la dernière ligne (ligne finale supprimée ?)"))
    return breaks
