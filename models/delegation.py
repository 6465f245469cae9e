"""The ministry's batch delegation of credits: envelopes, batches, delegation lines, and the
pure arithmetic of grouping a batch by département and P104 action against the envelope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel

from models.errors import Violation
from models.money import format_eur
from models.ptai import MAX_POSTPONEMENTS
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


BATCH_STATUS_LABELS = {
    BatchStatus.AWAITING: "en attente de l'arbitrage du ministère",
    BatchStatus.APPROVED: "approuvé, délégation en cours",
    BatchStatus.DELEGATED: "crédits délégués",
    BatchStatus.REJECTED: "rejeté",
    BatchStatus.EMPTY: "vide (aucune demande)",
}


class ArbitrageDecision(StrEnum):
    """The ministry's decision on a batch as a whole (its wording and effects: ``services.finance.steps``)."""

    APPROVE = "approve"
    REJECT = "reject"


class BatchEvent(StrEnum):
    """The moves of a batch no agent decides."""

    EMPTY = "empty"  # no request to delegate
    DELEGATED = "delegated"  # every département done


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


def check_envelope(
    total_cents: int, envelope_cents: int | None, delegated_cents: int, year: int, approved_cents: int = 0
) -> list[Violation]:
    """A batch over what remains of the year's envelope cannot be approved; says by how much.
    What remains is the envelope less what is delegated and what other approved batches, not
    yet delegated, have committed."""
    if envelope_cents is None:
        return [
            Violation(
                "ENVELOPPE_ABSENTE",
                "annee",
                f"aucune enveloppe nationale n'est fixée pour {year} (territoires envelope set)",
            )
        ]
    remaining = envelope_cents - delegated_cents - approved_cents
    if total_cents > remaining:
        committed = f"délégué {format_eur(delegated_cents)}" + (
            f", lots approuvés en cours de délégation {format_eur(approved_cents)}" if approved_cents else ""
        )
        return [
            Violation(
                "ENVELOPPE_DEPASSEE",
                "decision",
                f"le lot ({format_eur(total_cents)}) dépasse de {format_eur(total_cents - remaining)} "
                f"le reste de l'enveloppe {year} ({format_eur(remaining)} sur {format_eur(envelope_cents)} ; "
                f"{committed}) : "
                "réduisez, reportez ou refusez des demandes, ou rejetez le lot",
            )
        ]
    return []


# --- The ministry's decisions on each request of a batch ---------------------------------------


@dataclass(frozen=True)
class Reduction:
    request_id: int
    amount_cents: int  # the new amount, below the current one
    reason: str


@dataclass(frozen=True)
class Arbitrage:
    """What the ministry decides on the requests it lists; every other request is retained."""

    reductions: tuple[Reduction, ...] = ()
    postponed: tuple[int, ...] = ()
    postpone_reason: str | None = None
    refused: tuple[int, ...] = ()
    refusal_reason: str | None = None


def check_arbitrage(
    batch_items: list[BatchItem], arbitrage: Arbitrage, postponements: dict[int, int], references: dict[int, str]
) -> list[Violation]:
    """Each listed request is in the batch and listed once; a reduction lowers the amount (above
    zero: a refusal is a refusal) with its reason; postponing (once per request) and refusing
    carry their reason."""
    in_batch = {i.request_id: i for i in batch_items}
    out: list[Violation] = []
    listed = (
        [("reductions", r.request_id) for r in arbitrage.reductions]
        + [("postponed_request_ids", rid) for rid in arbitrage.postponed]
        + [("refused_request_ids", rid) for rid in arbitrage.refused]
    )
    unknown = sorted({rid for _, rid in listed if rid not in in_batch})
    if unknown:
        out.append(
            Violation(
                "DEMANDE_HORS_LOT",
                "decision",
                "demandes absentes du lot (ou qui n'y sont plus) : " + ", ".join(f"n° {rid}" for rid in unknown),
            )
        )
    seen: dict[int, str] = {}
    twice = []
    for field, rid in listed:
        if rid in seen:
            twice.append(rid)
        seen.setdefault(rid, field)
    if twice:
        out.append(
            Violation(
                "DECISIONS_CONTRADICTOIRES",
                "decision",
                "une demande ne reçoit qu'une décision (réduction, "
                "report ou refus) : " + ", ".join(f"{references.get(r, f'n° {r}')}" for r in sorted(set(twice))),
            )
        )
    for n, r in enumerate(arbitrage.reductions):
        item = in_batch.get(r.request_id)
        field = f"reductions[{n}]"
        if not r.reason.strip():
            out.append(
                Violation(
                    "CHAMP_MANQUANT",
                    f"{field}.reason",
                    "indiquez le motif de chaque réduction (il est transmis au demandeur)",
                )
            )
        if r.amount_cents <= 0:
            out.append(
                Violation(
                    "REDUCTION_INVALIDE",
                    f"{field}.amount_eur",
                    "un montant réduit est supérieur à zéro : pour ne rien accorder, refusez la demande",
                )
            )
        elif item is not None and r.amount_cents >= item.amount_cents:
            out.append(
                Violation(
                    "REDUCTION_NON_INFERIEURE",
                    f"{field}.amount_eur",
                    f"le montant réduit de la demande "
                    f"{references.get(r.request_id, r.request_id)} ({format_eur(r.amount_cents)}) doit être inférieur "
                    f"à son montant actuel ({format_eur(item.amount_cents)})",
                )
            )
    if arbitrage.postponed and not (arbitrage.postpone_reason or "").strip():
        out.append(
            Violation(
                "CHAMP_MANQUANT", "postpone_reason", "indiquez le motif du report (il est transmis aux demandeurs)"
            )
        )
    for rid in arbitrage.postponed:
        if rid in in_batch and postponements.get(rid, 0) >= MAX_POSTPONEMENTS:
            out.append(
                Violation(
                    "DEMANDE_DEJA_REPORTEE",
                    "postponed_request_ids",
                    f"la demande {references.get(rid, rid)} "
                    "a déjà été reportée une fois : elle ne peut plus l'être ; retenez-la, réduisez son "
                    "montant ou refusez-la",
                )
            )
    if arbitrage.refused and not (arbitrage.refusal_reason or "").strip():
        out.append(
            Violation(
                "CHAMP_MANQUANT",
                "refusal_reason",
                "indiquez le motif du refus (il figure dans la lettre adressée au demandeur)",
            )
        )
    return out


def retained(batch_items: list[BatchItem], arbitrage: Arbitrage) -> list[BatchItem]:
    """The requests delegated once the ministry's decisions apply, at their (reduced) amounts."""
    gone = set(arbitrage.postponed) | set(arbitrage.refused)
    reduced = {r.request_id: r.amount_cents for r in arbitrage.reductions}
    return [
        BatchItem(i.request_id, i.departement_code, i.p104_action, reduced.get(i.request_id, i.amount_cents))
        for i in batch_items
        if i.request_id not in gone
    ]


def batch_reference(year: int, batch_id: int) -> str:
    return f"LOT-{year}-{batch_id:03d}"
