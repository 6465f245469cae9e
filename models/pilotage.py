"""Comités de pilotage (seed 003, step 7): the comité, the contracts it covers, who sat on it,
what it decided on each action reviewed; its state machine and its rules, as pure code.

A comité is **national** (organised by the Diair with the ministry; it covers the contracts in
execution of every département, or a chosen list) or **local** (organised by the préfecture of a
département; it covers that département's contracts in execution). Once held, its compte rendu
records the date, the participants, the actions reviewed, a decision per action (which can flag
the action for the contract's yearly review, with a reason) and the minutes.

``ComiteActionReview`` is what the yearly review reads: one row per action reviewed, with
``flag_for_review`` and ``reason``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from models.errors import Violation
from models.types import UtcDateTime, utcnow


class ComiteLevel(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


LEVEL_LABELS = {ComiteLevel.NATIONAL: "national", ComiteLevel.LOCAL: "local"}


class ComiteStatus(StrEnum):
    PLANNED_LOCAL = "planned_local"  # the préfet records its compte rendu
    PLANNED_NATIONAL = "planned_national"  # the Diair records it
    HELD = "held"
    CANCELLED = "cancelled"


COMITE_STATUS_LABELS = {
    ComiteStatus.PLANNED_LOCAL: "prévu (compte rendu attendu de la préfecture)",
    ComiteStatus.PLANNED_NATIONAL: "prévu (compte rendu attendu de la Diair)",
    ComiteStatus.HELD: "tenu, compte rendu enregistré",
    ComiteStatus.CANCELLED: "annulé",
}

S = ComiteStatus

# One step per organiser: the engine awaits one role per step (the préfet for a local comité,
# the Diair for a national one); both steps offer the same decisions (``services.pilotage.steps``).
STEP_OF_LEVEL = {ComiteLevel.LOCAL: "compte_rendu", ComiteLevel.NATIONAL: "compte_rendu_national"}
PLANNED_STATUS = {ComiteLevel.LOCAL: S.PLANNED_LOCAL, ComiteLevel.NATIONAL: S.PLANNED_NATIONAL}


class ComiteDecision(StrEnum):
    RECORD = "record"  # the compte rendu
    CANCEL = "cancel"


class ComiteEvent(StrEnum):
    """The audit lines of a comité no agent's form decides."""

    PLANNED = "planned"
    MINUTES = "minutes"  # one per contract followed
    ACTION_REVIEWED = "action_reviewed"
    ACTION_FLAGGED = "action_flagged"  # to be reviewed at the contract's yearly review


# Bounds of a compte rendu (the form's schema repeats them, so the Prefect server enforces them).
MAX_PARTICIPANTS = 60
MAX_ACTIONS_REVIEWED = 300
MINUTES_LENGTH = 10_000
DECISION_LENGTH = 2_000
REASON_LENGTH = 1_000
# A comité may be brought forward: its compte rendu may be dated up to this many days before the
# planned date (never after today).
HELD_EARLIEST_BEFORE_PLANNED = timedelta(days=30)
# A comité is planned within this window around today.
PLANNED_EARLIEST = date(2019, 1, 1)  # the first contracts (CTAIR)
PLANNED_AT_MOST_AHEAD = timedelta(days=2 * 366)


# --- Tables -----------------------------------------------------------------------------------


class Comite(SQLModel, table=True):
    __table_args__ = (Index("ix_comite_scope", "level", "departement_code", "planned_on"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=40, unique=True)
    level: ComiteLevel = Field(sa_type=String(10))
    departement_code: str | None = Field(default=None, max_length=3, foreign_key="departement.code")  # None: national
    status: ComiteStatus = Field(sa_type=String(20), index=True)
    planned_on: date
    held_on: date | None = None
    minutes: str | None = Field(default=None, max_length=MINUTES_LENGTH)
    cancel_reason: str | None = Field(default=None, max_length=4000)
    recorded_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class ComiteContract(SQLModel, table=True):
    """A contract the comité covers (fixed when the comité is planned)."""

    __tablename__ = "comite_contract"
    __table_args__ = (UniqueConstraint("comite_id", "ctai_id", name="uq_comite_contract"),)

    id: int | None = Field(default=None, primary_key=True)
    comite_id: int = Field(foreign_key="comite.id", index=True)
    ctai_id: int = Field(foreign_key="ctai.id", index=True)


class ComiteParticipant(SQLModel, table=True):
    __tablename__ = "comite_participant"
    __table_args__ = (UniqueConstraint("comite_id", "position", name="uq_comite_participant"),)

    id: int | None = Field(default=None, primary_key=True)
    comite_id: int = Field(foreign_key="comite.id", index=True)
    position: int  # order of the compte rendu
    name: str = Field(max_length=200)
    function: str | None = Field(default=None, max_length=200)


class ComiteActionReview(SQLModel, table=True):
    """An action the comité reviewed and what it decided. The yearly review of a contract reads
    the rows of its ``ctai_id`` with ``flag_for_review`` set (the comité's « évaluation plus
    approfondie » of its most important actions)."""

    __tablename__ = "comite_action_review"
    __table_args__ = (
        UniqueConstraint("comite_id", "action_id", name="uq_comite_action_review"),
        Index("ix_comite_action_review_flagged", "ctai_id", "flag_for_review"),
    )

    id: int | None = Field(default=None, primary_key=True)
    comite_id: int = Field(foreign_key="comite.id", index=True)
    ctai_id: int = Field(foreign_key="ctai.id")
    action_id: int = Field(foreign_key="action.id", index=True)
    decision: str | None = Field(default=None, max_length=DECISION_LENGTH)  # None: reviewed, nothing decided
    flag_for_review: bool = False
    reason: str | None = Field(default=None, max_length=REASON_LENGTH)  # why it is flagged
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


# --- Rules ------------------------------------------------------------------------------------


def comite_reference(level: ComiteLevel, departement_code: str | None, year: int, comite_id: int) -> str:
    """``COPIL-86-2022-0003`` (local), ``COPIL-NAT-2022-0004`` (national)."""
    scope = departement_code if level == ComiteLevel.LOCAL else "NAT"
    return f"COPIL-{scope}-{year}-{comite_id:04d}"


def check_plan(
    *,
    level: ComiteLevel,
    departement_code: str | None,
    departement_known: bool,
    planned_on: date,
    today: date,
    chosen: list[int],
    in_scope: set[int],
) -> list[Violation]:
    """What a comité needs to be planned: a département for a local comité (none for a national
    one), a plausible date, and contracts in execution within its scope (``in_scope``), of which
    the ``chosen`` ones (none: all of them)."""
    out = []
    if level == ComiteLevel.LOCAL and not departement_code:
        out.append(
            Violation(
                "COMITE_DEPARTEMENT_MANQUANT",
                "departement",
                "un comité local est organisé par la préfecture d'un département : indiquez --departement",
            )
        )
    elif level == ComiteLevel.LOCAL and not departement_known:
        out.append(
            Violation("COMITE_DEPARTEMENT_INCONNU", "departement", f"département « {departement_code} » inconnu")
        )
    if level == ComiteLevel.NATIONAL and departement_code:
        out.append(
            Violation(
                "COMITE_NATIONAL_SANS_DEPARTEMENT",
                "departement",
                "un comité national couvre tous les départements : choisissez ses contrats avec --ctai, "
                "sans --departement",
            )
        )
    if not PLANNED_EARLIEST <= planned_on <= today + PLANNED_AT_MOST_AHEAD:
        out.append(
            Violation(
                "DATE_HORS_BORNES",
                "date",
                f"date du comité attendue entre le {PLANNED_EARLIEST:%d/%m/%Y} "
                f"et le {today + PLANNED_AT_MOST_AHEAD:%d/%m/%Y}",
            )
        )
    outside = sorted(set(chosen) - in_scope)
    if outside:
        out.append(
            Violation(
                "COMITE_CONTRAT_HORS_PERIMETRE",
                "ctai",
                f"contrats absents du périmètre du comité (en cours d'exécution"
                f"{' dans le département' if level == ComiteLevel.LOCAL else ''}) : "
                + ", ".join(f"n° {i}" for i in outside),
            )
        )
    elif not in_scope:
        out.append(
            Violation("COMITE_SANS_CONTRAT", "ctai", "aucun contrat en cours d'exécution dans le périmètre du comité")
        )
    return out


@dataclass(frozen=True)
class ActionDecisionInput:
    action_id: int
    decision: str | None
    flag_for_review: bool
    reason: str | None


def reviewed_actions(reviewed_ids: list[int], decisions: list[ActionDecisionInput]) -> list[int]:
    """The actions reviewed: those listed, then those a decision names, each once, in order."""
    out: list[int] = []
    for action_id in [*reviewed_ids, *(d.action_id for d in decisions)]:
        if action_id not in out:
            out.append(action_id)
    return out


def check_minutes(
    *,
    held_on: date,
    planned_on: date,
    today: date,
    participants: int,
    reviewed_ids: list[int],
    decisions: list[ActionDecisionInput],
    allowed_action_ids: set[int],
) -> list[Violation]:
    """A compte rendu: held on a date that has come (at most ``HELD_EARLIEST_BEFORE_PLANNED``
    before the planned date), with at least one participant, on actions of the contracts the
    comité covers, one decision per action at most, a reason for each action flagged for the
    yearly review."""
    out = []
    earliest = planned_on - HELD_EARLIEST_BEFORE_PLANNED
    if held_on > today:
        out.append(
            Violation(
                "COMITE_DATE_FUTURE",
                "held_on",
                f"le comité ne peut être dit tenu le {held_on:%d/%m/%Y}, "
                "date à venir : enregistrez le compte rendu une fois le comité tenu",
            )
        )
    elif held_on < earliest:
        out.append(
            Violation(
                "COMITE_DATE_TROP_TOT",
                "held_on",
                f"date de tenue le {held_on:%d/%m/%Y} : le comité était prévu le {planned_on:%d/%m/%Y} ; "
                f"une date antérieure au {earliest:%d/%m/%Y} n'est pas plausible",
            )
        )
    if participants < 1:
        out.append(Violation("COMITE_PARTICIPANT_MANQUANT", "participants", "indiquez au moins un participant"))
    reviewed = reviewed_actions(reviewed_ids, decisions)
    outside = [a for a in reviewed if a not in allowed_action_ids]
    if outside:
        out.append(
            Violation(
                "COMITE_ACTION_HORS_CONTRATS",
                "reviewed_action_ids",
                "actions qui n'appartiennent à aucun contrat couvert par le comité : "
                + ", ".join(f"n° {a}" for a in outside),
            )
        )
    twice = sorted(a for a, n in Counter(d.action_id for d in decisions).items() if n > 1)
    if twice:
        out.append(
            Violation(
                "COMITE_DECISION_EN_DOUBLE",
                "decisions",
                "une seule décision par action : " + ", ".join(f"n° {a}" for a in twice),
            )
        )
    unexplained = [d.action_id for d in decisions if d.flag_for_review and not (d.reason or "").strip()]
    if unexplained:
        out.append(
            Violation(
                "COMITE_MOTIF_REVUE_MANQUANT",
                "decisions",
                "indiquez pourquoi l'action est à revoir au bilan annuel : "
                + ", ".join(f"n° {a}" for a in unexplained),
            )
        )
    empty = [d.action_id for d in decisions if not d.flag_for_review and not (d.decision or "").strip()]
    if empty:
        out.append(
            Violation(
                "COMITE_DECISION_VIDE",
                "decisions",
                "une décision sans texte ni signalement ne dit rien : " + ", ".join(f"n° {a}" for a in empty),
            )
        )
    return out


def check_cancel(reason: str | None) -> list[Violation]:
    if not (reason or "").strip():
        return [
            Violation(
                "COMITE_MOTIF_ANNULATION_MANQUANT",
                "comment",
                "indiquez le motif de l'annulation (il est transmis aux parties)",
            )
        ]
    return []
