"""Approval codes and decision attempts: issuing, checking, spending and revoking codes.

Everything here runs inside the caller's transaction; the emails that carry the codes are
queued in that same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from models.actors import NATIONAL_ROLES, Agent, Role
from models.approval import MAX_WRONG_CODES, ApprovalAttempt, ApprovalCode, check_code, hash_code, new_code
from models.errors import Violation
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


def eligible_agents(session: Session, role: str, departement: str, *, exclude_agent_id: int | None = None) -> list[Agent]:
    stmt = select(Agent).where(Agent.role == role, Agent.active == True)  # noqa: E712
    if Role(role) not in NATIONAL_ROLES:
        stmt = stmt.where(Agent.departement_code == departement)
    return [a for a in session.exec(stmt.order_by(Agent.id)) if a.id != exclude_agent_id]


def active_code(session: Session, ref: CaseRef, agent_id: int) -> ApprovalCode | None:
    return session.exec(select(ApprovalCode).where(
        ApprovalCode.flow_run_id == ref.flow_run_id, ApprovalCode.step == ref.step, ApprovalCode.round == ref.round,
        ApprovalCode.agent_id == agent_id, ApprovalCode.revoked_at.is_(None))).first()


def issue_code(session: Session, ref: CaseRef, agent: Agent) -> tuple[ApprovalCode, str]:
    """A new code for one agent; returns the row and the plain code (only ever put in the email)."""
    code, salt = new_code(), secrets.token_hex(8)
    row = ApprovalCode(flow_run_id=ref.flow_run_id, entity_type=ref.entity_type, entity_id=ref.entity_id,
                       step=ref.step, round=ref.round, agent_id=agent.id, salt=salt, code_hash=hash_code(code, salt),
                       expires_at=utcnow() + timedelta(hours=get_settings().approval_code_ttl_hours))
    session.add(row)
    session.flush()
    return row, code


def revoke(session: Session, row: ApprovalCode) -> None:
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()


def verify(session: Session, ref: CaseRef, agent: Agent, code: str) -> tuple[ApprovalCode | None, list[Violation], bool]:
    """Checks the agent's code. Returns (row, violations, reissue): ``reissue`` says the code
    was revoked (too many wrong tries, or expired) and a new one must be sent."""
    row = active_code(session, ref, agent.id)
    now = utcnow()
    violations = check_code(row, code, now)
    if not violations or row is None:
        return row, violations, False
    if violations[0].code == "CODE_EXPIRE":
        revoke(session, row)
        return row, violations, True
    if violations[0].code == "CODE_INVALIDE":
        row.wrong_attempts += 1
        session.add(row)
        if row.wrong_attempts >= MAX_WRONG_CODES:
            revoke(session, row)
            return row, [Violation("CODE_REVOQUE", "approval_code", f"{MAX_WRONG_CODES} codes erronés : votre code est révoqué et un nouveau code vous est envoyé")], True
    return row, violations, False


def spend(session: Session, row: ApprovalCode) -> None:
    row.used_at = utcnow()
    session.add(row)


def recorded_attempt(session: Session, flow_run_id: str, attempt: int) -> ApprovalAttempt | None:
    return session.exec(select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == flow_run_id,
                                                      ApprovalAttempt.attempt == attempt)).first()


def attempts_of(session: Session, flow_run_id: str) -> list[ApprovalAttempt]:
    return list(session.exec(select(ApprovalAttempt).where(ApprovalAttempt.flow_run_id == flow_run_id)
                             .order_by(ApprovalAttempt.attempt)))
