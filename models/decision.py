"""The audit trail: one Decision row per transition, chained by HMAC-SHA256.

Each row stores the link of the previous row and its own link over its content, keyed with a
secret that is not in the database: editing, inserting or deleting any row breaks the chain, and
someone who can write to the database cannot recompute it (``territoires audit verify``). The
head (the last link) is sealed with the same key; a missing head is a break. The database also
refuses UPDATE, DELETE and TRUNCATE on the chain (triggers in the migrations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Column, Field, SQLModel

from models.keys import mac
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
    ``verify`` notice a deleted last row. ``seal`` keys the head like the rows."""

    id: int = Field(default=1, primary_key=True)
    last_decision_id: int | None = None
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)
    seal: str | None = Field(default=None, max_length=64)


HASHED_FIELDS = (
    "id",
    "entity_type",
    "entity_id",
    "step",
    "from_status",
    "to_status",
    "actor_agent_id",
    "actor_label",
    "decision",
    "comment",
    "amount_cents",
    "created_at",
    "prev_hash",
)


def decision_hash(row: Decision, key: bytes) -> str:
    return decision_hash_of({name: getattr(row, name) for name in HASHED_FIELDS}, key)


def decision_hash_of(values: dict, key: bytes) -> str:
    """The row's link from the hashed fields' values (no ORM object needed: bulk appends)."""
    payload = {}
    for name in HASHED_FIELDS:
        value = values.get(name)
        payload[name] = value.isoformat() if isinstance(value, datetime) else value
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return mac(key, canonical)


def head_seal(last_decision_id: int | None, last_hash: str, key: bytes) -> str:
    return mac(key, f"head:{last_decision_id}:{last_hash}")


def seal_head(head: AuditHead, last_decision_id: int | None, last_hash: str, key: bytes) -> None:
    head.last_decision_id, head.last_hash = last_decision_id, last_hash
    head.seal = head_seal(last_decision_id, last_hash, key)


@dataclass(frozen=True)
class ChainBreak:
    decision_id: int | None
    reason: str  # French, for the operator

    def as_dict(self) -> dict:
        return {"decision_id": self.decision_id, "reason": self.reason}


def verify_chain(rows: list[Decision], head: AuditHead | None, key: bytes) -> list[ChainBreak]:
    """Pure check of the chain, rows in id order. Empty list means intact."""
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    for row in rows:
        if row.prev_hash != previous:
            breaks.append(ChainBreak(row.id, "le maillon précédent ne correspond pas (ligne supprimée ou insérée)"))
        if decision_hash(row, key) != row.row_hash:
            breaks.append(
                ChainBreak(
                    row.id,
                    "le contenu de la ligne a été modifié après son enregistrement "
                    "(ou la chaîne a été recalculée sans la clé)",
                )
            )
        previous = row.row_hash
    last_id = rows[-1].id if rows else None
    if head is None:
        breaks.append(
            ChainBreak(last_id, "la tête de chaîne a disparu : la fin de la chaîne ne peut plus être vérifiée")
        )
    elif head.seal != head_seal(head.last_decision_id, head.last_hash, key):
        breaks.append(ChainBreak(head.last_decision_id, "le sceau de la tête de chaîne est faux (tête réécrite)"))
    elif head.last_decision_id != last_id or head.last_hash != previous:
        breaks.append(
            ChainBreak(
                head.last_decision_id,
                "la tête de chaîne ne correspond pas à la dernière ligne (ligne finale supprimée ?)",
            )
        )
    return breaks


def check_published(rows: list[Decision], published: list[tuple[int, str, str]]) -> list[ChainBreak]:
    """Each head published outside the database (decision id, link, when) must still be in the
    chain: a tail rewritten after a publication is detected, even by someone holding the key."""
    by_id = {row.id: row.row_hash for row in rows}
    breaks = []
    for decision_id, link, when in published:
        if decision_id is None:
            continue
        found = by_id.get(decision_id)
        if found is None:
            breaks.append(ChainBreak(decision_id, f"la décision publiée le {when} a disparu de la chaîne"))
        elif found != link:
            breaks.append(
                ChainBreak(decision_id, f"la décision publiée le {when} a été réécrite depuis sa publication")
            )
    return breaks
