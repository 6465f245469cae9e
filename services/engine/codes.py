"""Approval codes, decision attempts and lock-outs: issuing, checking, spending and revoking codes.

Everything here runs inside the caller's transaction; the emails that carry the codes are
queued in that same transaction. A code is never stored: the outbox holds the random reference
it is derived from (with the key, outside the database) until the email has left, and the
database a keyed hash of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from models.actors import NATIONAL_ROLES, Agent, Role, agent_may_act_in
from models.approval import (
    LOCKED_OUT,
    MAX_WRONG_CODES,
    ApprovalAttempt,
    ApprovalCode,
    ApprovalGuard,
    check_code,
    code_matches,
    derive_code,
    hash_code,
    new_reference,
    normalize_code,
    wrong_code,
)
from models.errors import Violation
from models.keys import APPROVAL_CODES, subkey
from models.types import utcnow
from settings import get_settings


@dataclass(frozen=True)
class CaseRef:
    """The run, step and round a code is bound to."""

    flow_run_id: str
    entity_type: str
    entity_id: int
    step: str
    round: int


@dataclass
class CodeCheck:
    """What checking an agent's code gave: ``violations`` empty means the code was right (and
    is now spent); ``reissue``: a new code must be mailed; ``locked_now``: this answer locked the
    agent out of the run, and the préfets and admins must be alerted."""

    violations: list[Violation] = field(default_factory=list)
    reissue: bool = False
    locked_now: bool = False


def codes_key() -> bytes:
    return subkey(get_settings().audit_key_bytes, APPROVAL_CODES)


def eligible_agents(
    session: Session, role: str, departement: str, *, exclude_agent_id: int | None = None
) -> list[Agent]:
    """The active agents who may act for ``role`` in ``departement`` (``agent_may_act_in``; the
    query narrows to the département first)."""
    stmt = select(Agent).where(Agent.role == role, Agent.active.is_(True))
    if Role(role) not in NATIONAL_ROLES:
        stmt = stmt.where(Agent.departement_code == departement)
    return [
        a
        for a in session.exec(stmt.order_by(Agent.id))
        if a.id != exclude_agent_id and agent_may_act_in(a.role, a.departement_code, Role(role), departement)
    ]


def active_code(session: Session, ref: CaseRef, agent_id: int) -> ApprovalCode | None:
    return session.exec(
        select(ApprovalCode).where(
            ApprovalCode.flow_run_id == ref.flow_run_id,
            ApprovalCode.step == ref.step,
            ApprovalCode.round == ref.round,
            ApprovalCode.agent_id == agent_id,
            ApprovalCode.revoked_at.is_(None),
        )
    ).first()


def issue_code(session: Session, ref: CaseRef, agent: Agent) -> tuple[ApprovalCode, str]:
    """A new code for one agent; returns the row and the reference the email derives it from."""
    reference, salt = new_reference(), secrets.token_hex(8)
    row = ApprovalCode(
        flow_run_id=ref.flow_run_id,
        entity_type=ref.entity_type,
        entity_id=ref.entity_id,
        step=ref.step,
        round=ref.round,
        agent_id=agent.id,
        salt=salt,
        code_hash=hash_code(derive_code(codes_key(), reference), salt, codes_key()),
        expires_at=utcnow() + timedelta(hours=get_settings().approval_code_ttl_hours),
    )
    session.add(row)
    session.flush()
    return row, reference


def revoke(session: Session, row: ApprovalCode) -> None:
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()


def burn_typed_code(session: Session, ref: CaseRef, typed: str) -> list[Agent]:
    """Codes of this step that someone typed where they could be read (the address field): they
    are revoked; returns their owners, to whom new codes are mailed."""
    if len(normalize_code(typed)) != 8:
        return []
    key, burnt = codes_key(), []
    for row in session.exec(
        select(ApprovalCode).where(
            ApprovalCode.flow_run_id == ref.flow_run_id,
            ApprovalCode.step == ref.step,
            ApprovalCode.round == ref.round,
            ApprovalCode.revoked_at.is_(None),
        )
    ):
        if code_matches(typed, row.salt, row.code_hash, key):
            revoke(session, row)
            burnt.append(session.get(Agent, row.agent_id))
    return burnt


def guard_for(session: Session, ref: CaseRef, agent_id: int) -> ApprovalGuard:
    """Wrong codes counted per run, agent and purpose (deciding the step, or lifting a lock-out)."""
    guard = session.exec(
        select(ApprovalGuard).where(
            ApprovalGuard.flow_run_id == ref.flow_run_id,
            ApprovalGuard.agent_id == agent_id,
            ApprovalGuard.step == ref.step,
        )
    ).first()
    if guard is None:
        guard = ApprovalGuard(
            flow_run_id=ref.flow_run_id,
            entity_type=ref.entity_type,
            entity_id=ref.entity_id,
            step=ref.step,
            agent_id=agent_id,
        )
        session.add(guard)
        session.flush()
    return guard


def is_locked_out(session: Session, ref: CaseRef, agent_id: int) -> bool:
    guard = session.exec(
        select(ApprovalGuard).where(
            ApprovalGuard.flow_run_id == ref.flow_run_id,
            ApprovalGuard.agent_id == agent_id,
            ApprovalGuard.step == ref.step,
        )
    ).first()
    return guard is not None and guard.locked


def verify(session: Session, ref: CaseRef, agent: Agent, code: str) -> CodeCheck:
    """Checks the agent's code. A right code is spent at once, whatever the answer's fate; a
    wrong one counts against the agent in this run, and the last allowed one locks them out."""
    guard = guard_for(session, ref, agent.id)
    if guard.locked:
        return CodeCheck([LOCKED_OUT])
    row = active_code(session, ref, agent.id)
    violations = check_code(row, code, utcnow(), codes_key())
    if not violations:
        row.used_at = row.revoked_at = utcnow()
        session.add(row)
        session.flush()
        return CodeCheck()
    if violations[0].code == "CODE_EXPIRE":
        revoke(session, row)
        return CodeCheck(violations, reissue=True)
    guard.wrong_codes += 1
    session.add(guard)
    if guard.wrong_codes < MAX_WRONG_CODES:
        return CodeCheck([wrong_code(guard.wrong_codes)])
    guard.locked_at, guard.unlocked_at, guard.unlocked_by_agent_id = utcnow(), None, None
    guard.lockouts += 1
    if row is not None:
        revoke(session, row)
    session.flush()
    return CodeCheck([LOCKED_OUT], locked_now=True)


def lift_lockout(session: Session, guard: ApprovalGuard, by: Agent) -> None:
    guard.unlocked_at, guard.unlocked_by_agent_id, guard.wrong_codes = utcnow(), by.id, 0
    session.add(guard)
    session.flush()


def recorded_attempt(session: Session, flow_run_id: str, attempt: int) -> ApprovalAttempt | None:
    return session.exec(
        select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == flow_run_id, ApprovalAttempt.attempt == attempt)
    ).first()


def attempts_of(session: Session, flow_run_id: str) -> list[ApprovalAttempt]:
    return list(
        session.exec(
            select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == flow_run_id).order_by(ApprovalAttempt.attempt)
        )
    )
