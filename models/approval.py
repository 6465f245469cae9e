"""Who may decide a step: one-time approval codes, decision attempts, lock-outs and live step runs.

Prefect's open-source server has no users, so the platform identifies the decider itself: each
agent allowed to decide receives a personal code by email; the code is bound to the run, step,
round and agent, spent as soon as it is checked, and expires.

A code exists in clear only in the email that carries it. It is derived, when the email is
written, from a random reference and the platform's secret key; the database keeps a keyed
hash of it (useless without the key, which is not in the database), the outbox only the
reference, erased once the email has left.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import JSON, Column, Field, SQLModel

from models.actors import Role, agent_may_act_in
from models.errors import Violation
from models.french import pluriel
from models.keys import mac
from models.types import UtcDateTime, utcnow

MAX_WRONG_CODES = 5  # per run and agent; then the agent is locked out until a préfet or an admin lifts it
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class ApprovalCode(SQLModel, table=True):
    __tablename__ = "approval_code"
    __table_args__ = (
        Index("ix_approval_code_run_agent", "flow_run_id", "agent_id"),
        # One usable code per agent, run, step and round.
        Index(
            "uq_approval_code_active",
            "flow_run_id",
            "step",
            "round",
            "agent_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(max_length=36)
    entity_type: str = Field(max_length=20)
    entity_id: int
    step: str = Field(max_length=40)
    round: int = 1
    agent_id: int = Field(foreign_key="agent.id")
    salt: str = Field(max_length=32)
    code_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class AttemptOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


class ApprovalAttempt(SQLModel, table=True):
    """One answer given to a form. Replaying a resumed run finds its outcome here instead of
    judging the same answer twice (codes would be spent, refusals recorded twice)."""

    __tablename__ = "approval_attempt"
    __table_args__ = (UniqueConstraint("flow_run_id", "attempt", name="uq_approval_attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(max_length=36)
    attempt: int
    entity_type: str = Field(max_length=20)
    entity_id: int
    step: str = Field(max_length=40)
    outcome: AttemptOutcome = Field(sa_type=String(10))
    violations: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decision_id: int | None = Field(default=None, foreign_key="decision.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class ApprovalGuard(SQLModel, table=True):
    """Wrong codes given by one agent to one run, and the lock-out that follows too many."""

    __tablename__ = "approval_guard"
    __table_args__ = (UniqueConstraint("flow_run_id", "agent_id", "step", name="uq_approval_guard"),)

    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(max_length=36)
    entity_type: str = Field(max_length=20)
    entity_id: int
    step: str = Field(max_length=40)  # the step decided, or ``deblocage-<agent>`` for lifting a lock-out
    agent_id: int = Field(foreign_key="agent.id")
    wrong_codes: int = 0
    lockouts: int = 0  # how many times this agent was locked out of this run
    locked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    unlocked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    unlocked_by_agent_id: int | None = Field(default=None, foreign_key="agent.id")

    @property
    def locked(self) -> bool:
        return self.locked_at is not None and self.unlocked_at is None


class StepRunState(StrEnum):
    STARTING = "starting"  # row written, Prefect run not yet created
    LIVE = "live"
    DONE = "done"


class StepRun(SQLModel, table=True):
    """The Prefect run that carries one step of one case. At most one live per (case, step)."""

    __tablename__ = "step_run"
    __table_args__ = (
        UniqueConstraint("trigger_key", name="uq_step_run_trigger"),
        Index(
            "uq_step_run_live",
            "entity_type",
            "entity_id",
            "step",
            unique=True,
            sqlite_where=text("state <> 'done'"),
            postgresql_where=text("state <> 'done'"),
        ),
        Index("ix_step_run_waiting", "state", "entity_type", "step", "opened_at"),  # the reminders' selection
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=20)
    entity_id: int
    step: str = Field(max_length=40)
    trigger_key: str = Field(max_length=200)
    flow_run_id: str | None = Field(default=None, max_length=36, index=True)
    state: StepRunState = Field(default=StepRunState.STARTING, sa_type=String(10))
    round: int = 1
    awaited_role: str | None = Field(default=None, max_length=20)
    opened_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    closing_decision_id: int | None = Field(default=None, foreign_key="decision.id")
    # Recovery (services/engine/recovery.py). ``worker``: the process executing the run now
    # (host:pid:start, written when the flow opens the step), so the sweep can tell a run whose
    # process died; ``incident``: what last went wrong (a flow's failure or crash, seen by its
    # hooks or by the sweep); ``restarts``: how many times the step was started again (it also
    # renews the keys of the form's waits); ``previous_run_id`` and ``first_run_id``: the run a
    # new run replaced, and the step's first run (the applicants' letters are keyed on it).
    worker: str | None = Field(default=None, max_length=120)
    worker_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    incident: str | None = Field(default=None, max_length=500)
    incident_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    restarts: int = 0
    previous_run_id: str | None = Field(default=None, max_length=36)
    first_run_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class Installation(SQLModel, table=True):
    """This database's identity, written once by the migrations. Prefect's idempotency keys
    carry it, so two databases served by one Prefect server never share a run."""

    id: int = Field(default=1, primary_key=True)
    instance_id: str = Field(max_length=36)


# --- Pure functions -----------------------------------------------------------------------------


def new_reference() -> str:
    """The random reference an approval code is derived from (kept in the outbox until sent)."""
    return secrets.token_hex(16)


def derive_code(key: bytes, reference: str) -> str:
    """Eight characters in two groups, easy to read aloud and to type: ``K7M4-Q9TX``."""
    digest = hmac.new(key, f"code:{reference}".encode(), hashlib.sha256).digest()
    raw = "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:8])
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str, salt: str, key: bytes) -> str:
    """Keyed: the database alone cannot be searched for the code."""
    return mac(key, f"{salt}:{normalize_code(code)}")


def code_matches(code: str, salt: str, code_hash: str, key: bytes) -> bool:
    return hmac.compare_digest(hash_code(code, salt, key), code_hash)


NOT_ENTITLED = Violation(
    "AGENT_NON_HABILITE",
    "agent_email",
    "ce courriel ne correspond à aucun agent habilité à décider "
    "cette étape (rôle, département, ou agent ayant instruit le dossier : principe des quatre yeux) : "
    "vérifiez l'adresse saisie",
)


def check_decider(
    *,
    agent_found: bool,
    agent_role: str | None,
    agent_departement: str | None,
    agent_active: bool,
    awaited_role: str,
    departement: str,
    email: str,
) -> list[Violation]:
    """The agent exists, is active, has the awaited role, in the case's département (or nationally).

    One answer for every failure: the form must not tell whoever types an address whether it is
    an agent's, nor that agent's role or département."""
    entitled = (
        agent_found
        and agent_active
        and agent_may_act_in(agent_role, agent_departement, Role(awaited_role), departement)
    )
    return [] if entitled else [NOT_ENTITLED]


def check_code(code_row: ApprovalCode | None, code: str, now: datetime, key: bytes) -> list[Violation]:
    if code_row is None:
        return [
            Violation(
                "CODE_INVALIDE",
                "approval_code",
                "aucun code d'approbation valide ne vous a été adressé pour cette étape",
            )
        ]
    if code_row.expires_at <= now:
        return [
            Violation(
                "CODE_EXPIRE", "approval_code", "ce code d'approbation a expiré : un nouveau code vous est envoyé"
            )
        ]
    if not code_matches(code, code_row.salt, code_row.code_hash, key):
        return [Violation("CODE_INVALIDE", "approval_code", "code d'approbation erroné")]
    return []


# The one public answer to an answer whose author is not authenticated (address, role,
# département, four eyes, code, expiry, lock-out alike): the details go to the awaited agent by
# email and to the operators' log, never to whoever typed the answer.
NOT_AUTHENTICATED = Violation(
    "IDENTIFICATION_REFUSEE",
    "approval_code",
    "courriel ou code d'approbation non reconnu : vérifiez l'un et l'autre. Si vous êtes "
    "attendu à cette étape et que votre code a expiré ou que vos réponses sont bloquées, "
    "vous en êtes informé par courriel.",
)


def wrong_code(wrong_codes: int) -> Violation:
    """A wrong code, with the tries left before the lock-out."""
    left = max(MAX_WRONG_CODES - wrong_codes, 0)
    return Violation(
        "CODE_INVALIDE",
        "approval_code",
        f"code d'approbation erroné ({pluriel(left, 'essai restant')} avant le blocage de vos réponses à cette étape)",
    )


LOCKED_OUT = Violation(
    "AGENT_BLOQUE",
    "agent_email",
    f"{MAX_WRONG_CODES} codes erronés : vos réponses à cette étape sont "
    "bloquées ; un préfet ou un administrateur, prévenu, peut les débloquer",
)


def check_four_eyes(decider_agent_id: int, instructor_agent_id: int | None) -> list[Violation]:
    """The agent who instructed a case cannot also sign or validate it (principe des quatre yeux).
    Refused with the same answer as any other agent not entitled to the step."""
    if instructor_agent_id is not None and decider_agent_id == instructor_agent_id:
        return [NOT_ENTITLED]
    return []
