"""Lock-outs: after too many wrong codes, an agent's answers to a run are blocked. The préfets
of the case's département and the administrators are alerted, each with a personal code to
lift it; one of them lifts it (``territoires approvals unlock``) and the agent gets a new code.
Lifting is recorded in the case's audit trail."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlmodel import Session, select

from models.actors import Agent, Role
from models.approval import NOT_ENTITLED, ApprovalCode, ApprovalGuard, StepRun, StepRunState
from models.errors import DomainError, Violation
from models.text import Comment
from notifications.outbox import Email, message_key, queue_many
from services.engine import codes, mail
from services.engine.audit import Actor, AuditEvent, record_decision
from services.engine.codes import CaseRef
from services.engine.kind import CaseKind


class NotLockedOut(DomainError):
    code = "AGENT_NON_BLOQUE"


def unlock_ref(guard: ApprovalGuard) -> CaseRef:
    """The codes that lift one lock-out are bound to it (agent, run, and which lock-out)."""
    return CaseRef(guard.flow_run_id, guard.entity_type, guard.entity_id, f"deblocage-{guard.agent_id}", guard.lockouts)


def unlockers(session: Session, departement: str, locked: Agent) -> list[Agent]:
    """The administrators, and the préfets of the case's département; never the locked agent."""
    found = codes.eligible_agents(session, Role.ADMIN, departement)
    if departement != "national":
        found += codes.eligible_agents(session, Role.PREFET, departement)
    return [a for a in found if a.id != locked.id]


def alert(session: Session, kind: CaseKind, case, ref: CaseRef, locked: Agent, link: str | None) -> None:
    """Mails each unlocker what happened and a personal code to lift the lock-out, and tells the
    locked agent (the form itself says nothing)."""
    guard = codes.guard_for(session, ref, locked.id)
    unlock = unlock_ref(guard)
    transition = f"{ref.step}:{ref.flow_run_id}:lockout{guard.lockouts}:{locked.id}"
    base = {
        "etape": kind.steps[ref.step].label,
        "agent_bloque": f"{locked.name} <{locked.email}>",
        "courriel_bloque": locked.email,
        "execution": ref.flow_run_id,
        "lien": link,
    }
    emails = [
        Email(
            "responses_blocked",
            locked.email,
            {**kind.email_base(session, case, locked.name), **base},
            message_key(kind.entity, case.id, transition, locked.email, "responses_blocked"),
        )
    ]
    for agent in unlockers(session, kind.departement(session, case), locked):
        row, reference = codes.issue_code(session, unlock, agent)
        emails.append(
            Email(
                "lockout_alert",
                agent.email,
                {
                    **kind.email_base(session, case, agent.name),
                    **base,
                    "courriel_destinataire": agent.email,
                    "code_ref": reference,
                    "expire_le": row.expires_at,
                },
                message_key(kind.entity, case.id, transition, agent.email, f"lockout_alert:c{row.id}"),
            )
        )
    queue_many(session, emails)


def unlock(
    session: Session,
    kind: CaseKind,
    run: StepRun,
    *,
    locked_email: str,
    by_email: str,
    code: str,
    comment: str | None,
    link: str | None,
) -> list[Violation]:
    """Lifts a lock-out; returns the reasons it is refused (empty: lifted). A wrong code counts
    against the unlocker like any other, so the caller commits a refusal too."""
    comment = TypeAdapter(Comment | None).validate_python(
        comment
    )  # typed on a command line: bounded, no hidden characters
    case = kind.lock(session, run.entity_id)
    locked = session.exec(select(Agent).where(Agent.email == locked_email.strip().lower())).first()
    guard = (
        None
        if locked is None
        else session.exec(
            select(ApprovalGuard).where(
                ApprovalGuard.flow_run_id == run.flow_run_id,
                ApprovalGuard.agent_id == locked.id,
                ApprovalGuard.step == run.step,
            )
        ).first()
    )
    if run.state == StepRunState.DONE or guard is None or not guard.locked:
        raise NotLockedOut(
            f"[{NotLockedOut.code}] aucune réponse de « {locked_email} » n'est bloquée à l'exécution {run.flow_run_id}"
        )
    by = session.exec(select(Agent).where(Agent.email == by_email.strip().lower())).first()
    departement = kind.departement(session, case)
    if by is None or by.id == locked.id or by.id not in {a.id for a in unlockers(session, departement, locked)}:
        return _refused(session, kind, case, run, None, locked, [NOT_ENTITLED])
    # Wrong unlock codes count against this unlocker for this lock-out only (its own guard): five,
    # and this unlocker can no longer lift it; the others still can.
    check = codes.verify(session, unlock_ref(guard), by, code)
    if check.violations:
        return _refused(session, kind, case, run, by, locked, check.violations)
    codes.lift_lockout(session, guard, by)
    for row in session.exec(
        select(ApprovalCode).where(
            ApprovalCode.flow_run_id == run.flow_run_id,
            ApprovalCode.step == unlock_ref(guard).step,
            ApprovalCode.revoked_at.is_(None),
        )
    ):
        codes.revoke(session, row)  # the other unlockers' codes are spent with this lifting
    record_decision(
        session,
        entity_type=kind.entity,
        entity_id=case.id,
        step=run.step,
        from_status=case.status,
        to_status=case.status,
        actor=Actor(by.email, by.id),
        decision=AuditEvent.UNLOCK,
        comment=f"réponses de {locked.email} débloquées" + (f" : {comment}" if comment else ""),
    )
    mail.new_code(
        session,
        kind,
        case,
        CaseRef(run.flow_run_id, kind.entity, case.id, run.step, run.round),
        locked,
        link,
        motif=f"Vos réponses à cette étape ont été débloquées par {by.name}.",
    )
    return []


def _refused(
    session: Session, kind: CaseKind, case, run: StepRun, by: Agent | None, locked: Agent, violations: list[Violation]
) -> list[Violation]:
    """A refused lifting is recorded in the case's audit trail, like any refused answer."""
    record_decision(
        session,
        entity_type=kind.entity,
        entity_id=case.id,
        step=run.step,
        from_status=case.status,
        to_status=case.status,
        actor=Actor(by.email if by else "(courriel non reconnu)", by.id if by else None),
        decision=AuditEvent.UNLOCK_REFUSED,
        comment=f"déblocage des réponses de {locked.email} refusé : {violations[0].code}",
    )
    return violations
