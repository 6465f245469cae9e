"""The ministry's batch delegation of credits: envelopes, batches, delegation lines, and the
pure arithmetic of grouping a batch by département and P104 action against the envelope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel

from models.actors import Role
from models.errors import Violation
from models.money import format_eur
from models.state_machine import StateMachine, Transition
from models.types import UtcDateTime, utcnow


class Envelope(SQLModel, table=True):
    """The year's national envelope for PTAI credits (9 M€ in 2021, 11 M€ in 2023)."""

    year: int = Field(primary_key=True)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class BatchStatus(StrEnum):
    AWAITING = "awaiting"  # published, waiting for the ministry's decision
    APPROVED = "approved"  # decision taken, credits being (or all) delegated
    DELEGATED = "delegated"  # every département done
    REJECTED = "rejected"
    EMPTY = "empty"


B = BatchStatus
BATCH_MACHINE = StateMachine("lot", [
    Transition("selection", B.AWAITING, "empty", B.EMPTY, None, "aucune demande à déléguer"),
    Transition("arbitrage", B.AWAITING, "approve", B.APPROVED, Role.MINISTERE, "lot approuvé", guarded=True),
    Transition("arbitrage", B.AWAITING, "exclude", B.APPROVED, Role.MINISTERE, "lot approuvé avec exclusions",
               guarded=True),
    Transition("arbitrage", B.AWAITING, "reject", B.REJECTED, Role.MINISTERE, "lot rejeté"),
    Transition("delegation", B.APPROVED, "delegated", B.DELEGATED, None, "crédits délégués dans chaque département"),
])


class DelegationBatch(SQLModel, table=True):
    __tablename__ = "delegation_batch"

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=30, unique=True)
    year: int = Field(index=True)
    status: BatchStatus = Field(default=BatchStatus.AWAITING, sa_type=String(12))
    flow_run_id: str | None = Field(default=None, max_length=36, unique=True)
    total_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    requests_count: int = 0
    decided_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    report: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class DelegationLine(SQLModel, table=True):
    """What is keyed into the State's financial system: AE = CP per département and action."""

    __tablename__ = "delegation_line"
    __table_args__ = (UniqueConstraint("batch_id", "departement_code", "p104_action", name="uq_delegation_line"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="delegation_batch.id", index=True)
    year: int = Field(index=True)
    departement_code: str = Field(foreign_key="departement.code", max_length=3)
    p104_action: int
    requests_count: int
    ae_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    cp_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


@dataclass(frozen=True)
class BatchItem:
    request_id: int
    departement_code: str
    p104_action: int
    amount_cents: int


@dataclass(frozen=True)
class GroupTotal:
    departement_code: str
    p104_action: int
    requests_count: int
    amount_cents: int


def group(items: list[BatchItem]) -> list[GroupTotal]:
    """Totals per (département, P104 action), sorted by département then action."""
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        acc = counts[(item.departement_code, item.p104_action)]
        acc[0] += 1
        acc[1] += item.amount_cents
    return [GroupTotal(dep, action, n, cents) for (dep, action), (n, cents) in sorted(counts.items())]


def check_envelope(total_cents: int, envelope_cents: int | None, delegated_cents: int, year: int) -> list[Violation]:
    """A batch over what remains of the year's envelope cannot be approved; says by how much."""
    if envelope_cents is None:
        return [Violation("ENVELOPPE_ABSENTE", "annee", f"aucune enveloppe nationale n'est fixée pour {year} (territoires envelope set)")]
    remaining = envelope_cents - delegated_cents
    if total_cents > remaining:
        return [Violation("ENVELOPPE_DEPASSEE", "decision", f"le lot ({format_eur(total_cents)}) dépasse de {format_eur(total_cents - remaining)} "
                          f"le reste de l'enveloppe {year} ({format_eur(remaining)} sur {format_eur(envelope_cents)}) : excluez des demandes ou rejetez le lot")]
    return []


def batch_reference(year: int, batch_id: int) -> str:
    return f"LOT-{year}-{batch_id:03d}"
