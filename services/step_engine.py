"""Approval steps as transactions, for any kind of case (CTAI contract, PTAI request, batch).

Opening a step issues one personal code per entitled agent and queues the emails; judging an
answer checks the decider (agent, role, département, four eyes, code) and the rules, then
records the Decision and queues the emails, in one transaction. Both are idempotent, because a
resumed Prefect run executes its flow again from the top: opening twice issues no second code
and queues no second email; judging an answer already judged returns the stored outcome.

What differs between kinds of case (state machine, handlers, texts, parties) is a ``CaseKind``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from models.actors import ROLE_LABELS, Agent, Role
from models.approval import ApprovalAttempt, AttemptOutcome, StepRunState, check_decider, check_four_eyes
from models.decision import Decision
from models.errors import DomainError, RuleViolation, TransitionNotAllowed, Violation
from models.state_machine import StateMachine, Transition
from notifications.outbox import Email, message_key, queue_many
from services import approvals, steps
from services.approvals import CaseRef
from services.audit import Actor, record_decision
from services.db import is_postgresql


class NotAtStep(DomainError):
    code = "ETAPE_NON_ATTENDUE"


@dataclass
class Applied:
    """What a step's handler did: rule checks for guarded transitions, the amount to record."""

    checks: list[Violation] | None = None
    amount_cents: int | None = None


Handler = Callable[[Session, Any, str, dict], Applied]


@dataclass(frozen=True)
class CaseKind:
    entity: str
    model: type
    machine: StateMachine
    status_of_step: dict[str, StrEnum]
    step_labels: dict[str, str]
    handlers: dict[str, Handler]
    four_eyes_steps: frozenset[str]
    departement: Callable[[Session, Any], str]
    run_name: Callable[[Session, Any, str], str]
    description: Callable[[Session, Any, str, str, list[Violation] | None], str]
    email_base: Callable[[Session, Any, str], dict]
    applicants: Callable[[Session, Any], list[tuple[str, str]]]  # (email, name) told of each step
    expectations: dict[str, str | None] = field(default_factory=dict)
    summary: Callable[[Session, Any], str] | None = None  # one line for the approval email
    after_decision: Callable[[Session, Any, Transition, Agent, dict], None] | None = None

    def step_of(self, status: str) -> str | None:
        return next((s for s, st in self.status_of_step.items() if st == status), None)

    def awaited_role(self, step: str) -> str:
        roles = {t.role for t in self.machine.allowed(self.status_of_step[step]) if t.role is not None}
        return str(roles.pop())


@dataclass
class StepView:
    """What the flow needs to wait: JSON-friendly, so Prefect can persist it."""

    entity_id: int
    step: str
    state: str  # "open" or "done"
    round: int
    next_attempt: int
    description: str
    run_name: str
    awaited_role: str
    closing_decision_id: int | None = None
    next_step: str | None = None


@dataclass
class Outcome:
    accepted: bool
    leaves_step: bool = False
    next_step: str | None = None
    decision_id: int | None = None
    violations: list[dict] = field(default_factory=list)


def lock(session: Session, kind: CaseKind, entity_id: int):
    stmt = select(kind.model).where(kind.model.id == entity_id)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    case = session.exec(stmt).first()
    if case is None:
        raise NotAtStep(f"[{NotAtStep.code}] aucun dossier {kind.entity} n° {entity_id}")
    return case


def launch_info(session: Session, kind: CaseKind, entity_id: int, step: str) -> dict:
    """Name, tags and awaited role of a step's run, so agents can filter the UI."""
    case = session.get(kind.model, entity_id)
    role = kind.awaited_role(step)
    return {"run_name": kind.run_name(session, case, step), "awaited_role": role,
            "tags": [kind.entity, f"dept:{kind.departement(session, case)}", f"step:{step}", f"awaiting:{role}"]}


# --- Opening a step -----------------------------------------------------------------------------

def open_step(session: Session, kind: CaseKind, *, entity_id: int, step: str, flow_run_id: str, trigger: str | None,
              link: str | None) -> StepView:
    case = lock(session, kind, entity_id)
    row = steps.attach(session, trigger, flow_run_id) if trigger else steps.for_run(session, flow_run_id)
    if row is None:
        raise NotAtStep(f"[{NotAtStep.code}] l'exécution {flow_run_id} n'est inscrite pour aucune étape")
    role = kind.awaited_role(step)
    if row.state == StepRunState.DONE:
        closing = session.get(Decision, row.closing_decision_id)
        return StepView(case.id, step, "done", row.round, 0, "", kind.run_name(session, case, step), role,
                        row.closing_decision_id, kind.step_of(closing.to_status))
    if case.status != kind.status_of_step[step]:
        raise NotAtStep(f"[{NotAtStep.code}] le dossier {case.reference} est au statut « {case.status} », "
                        f"pas à l'étape « {kind.step_labels[step]} »")
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    _issue_codes(session, kind, case, ref, role, link)
    steps.mark_opened(session, row)
    attempts = approvals.attempts_of(session, flow_run_id)
    refusal = None
    if attempts and attempts[-1].outcome == AttemptOutcome.REFUSED:
        refusal = [Violation(**v) for v in attempts[-1].violations]
    return StepView(case.id, step, "open", row.round, len(attempts) + 1,
                    kind.description(session, case, step, role, refusal), kind.run_name(session, case, step), role)


def _issue_codes(session: Session, kind: CaseKind, case, ref: CaseRef, role: str, link: str | None) -> None:
    """One code and one email per entitled agent, once per round; the applicants are told."""
    exclude = case.instructed_by_agent_id if ref.step in kind.four_eyes_steps else None
    agents = approvals.eligible_agents(session, role, kind.departement(session, case), exclude_agent_id=exclude)
    transition = open_transition(ref)
    emails: list[Email] = []
    for agent in agents:
        if approvals.active_code(session, ref, agent.id) is not None:
            continue  # replay of an opened step: the agent has a code already
        code_row, code = approvals.issue_code(session, ref, agent)
        emails.append(approval_email(session, kind, case, ref, agent, code, code_row.expires_at, link, transition))
    again = steps.opened_before(session, kind.entity, case.id, ref.step, ref.flow_run_id) or ref.round > 1
    expected = kind.expectations.get(ref.step)
    if again:
        expected = kind.expectations.get(f"{ref.step}:again") or (
            "Le dossier repris est de nouveau examiné à cette étape." + (f" {expected}" if expected else ""))
    for address, name in kind.applicants(session, case):
        emails.append(Email("step_started", address, {
            **kind.email_base(session, case, name), "etape": kind.step_labels[ref.step], "action_attendue": expected},
            message_key(kind.entity, case.id, transition, address, "step_started")))
    queue_many(session, emails)


def open_transition(ref: CaseRef) -> str:
    """A step can open several times (a new run after a rework, a new round within a run):
    each opening mails its own codes."""
    return f"{ref.step}:{ref.flow_run_id}:r{ref.round}:open"


def approval_email(session: Session, kind: CaseKind, case, ref: CaseRef, agent: Agent, code: str, expires_at,
                   link: str | None, transition: str, motif: str | None = None) -> Email:
    context = {**kind.email_base(session, case, agent.name), "etape": kind.step_labels[ref.step],
               "role": ROLE_LABELS[Role(agent.role)],
               "resume": kind.summary(session, case) if kind.summary else kind.run_name(session, case, ref.step),
               "code": code, "expire_le": expires_at, "lien": link or "(lien indisponible)",
               "motif_nouveau_code": motif}
    key_kind = "approval_requested" if motif is None else f"approval_requested:{expires_at.isoformat()}"
    return Email("approval_requested", agent.email, context, message_key(kind.entity, case.id, transition, agent.email, key_kind))


# --- Judging an answer --------------------------------------------------------------------------

def decide(session: Session, kind: CaseKind, *, entity_id: int, step: str, flow_run_id: str, attempt: int,
           answer: dict, link: str | None) -> Outcome:
    done = approvals.recorded_attempt(session, flow_run_id, attempt)
    if done is not None:
        return _stored_outcome(session, kind, done)
    case = lock(session, kind, entity_id)
    row = steps.for_run(session, flow_run_id)
    role = kind.awaited_role(step)
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    email = str(answer.get("agent_email") or "").strip().lower()
    agent = session.exec(select(Agent).where(Agent.email == email)).first()

    violations = check_decider(agent_found=agent is not None, agent_role=agent and agent.role,
                               agent_departement=agent and agent.departement_code, agent_active=bool(agent and agent.active),
                               awaited_role=role, departement=kind.departement(session, case), email=email)
    if agent is not None and step in kind.four_eyes_steps:
        violations = check_four_eyes(agent.id, case.instructed_by_agent_id) or violations
    code_row = None
    if not violations:
        code_row, violations, reissue = approvals.verify(session, ref, agent, str(answer.get("approval_code") or ""))
        if reissue:
            new_row, code = approvals.issue_code(session, ref, agent)
            queue_many(session, [approval_email(session, kind, case, ref, agent, code, new_row.expires_at, link,
                                                open_transition(ref), motif=violations[0].message)])
    if violations:
        return _refuse(session, kind, case, step, flow_run_id, attempt, email, agent, answer, violations)

    decision = str(answer.get("decision"))
    before = case.status
    try:
        with session.begin_nested():
            transition = kind.machine.transition(case.status, decision)
            applied = kind.handlers[step](session, case, decision, answer)
            if applied.checks:
                raise RuleViolation(applied.checks)
            case.status = transition.target
            session.add(case)
    except (RuleViolation, TransitionNotAllowed) as exc:
        session.expire_all()
        case = lock(session, kind, entity_id)
        found = exc.violations if isinstance(exc, RuleViolation) else [Violation(exc.code, "decision", str(exc))]
        return _refuse(session, kind, case, step, flow_run_id, attempt, email, agent, answer, found)

    approvals.spend(session, code_row)
    if Role(agent.role) == Role.INSTRUCTEUR:
        case.instructed_by_agent_id = agent.id
    recorded = record_decision(session, entity_type=kind.entity, entity_id=case.id, step=step, from_status=before,
                               to_status=case.status, actor=Actor(agent.email, agent.id), decision=decision,
                               comment=answer.get("comment") or None, amount_cents=applied.amount_cents)
    leaves = transition.target != transition.source
    if leaves:
        steps.close(session, row, recorded.id)
    else:
        row.round += 1  # a rework inside the step: a new round, new codes
        session.add(row)
    if kind.after_decision is not None:
        kind.after_decision(session, case, transition, agent, answer)
    _queue_decision_emails(session, kind, case, step, decision, transition.label, agent, answer,
                           applied.amount_cents, recorded.id)
    session.add(ApprovalAttempt(flow_run_id=flow_run_id, attempt=attempt, entity_type=kind.entity, entity_id=case.id,
                                step=step, outcome=AttemptOutcome.ACCEPTED, decision_id=recorded.id))
    session.flush()
    return Outcome(True, leaves, kind.step_of(case.status) if leaves else None, recorded.id)


def _refuse(session: Session, kind: CaseKind, case, step: str, flow_run_id: str, attempt: int, email: str,
            agent: Agent | None, answer: dict, violations: list[Violation]) -> Outcome:
    """Nothing changes but the audit trail: the attempt is recorded, the form asks again."""
    recorded = record_decision(
        session, entity_type=kind.entity, entity_id=case.id, step=step, from_status=case.status, to_status=case.status,
        actor=Actor(email or "(courriel non renseigné)", agent.id if agent else None), decision="refus",
        comment=f"décision « {answer.get('decision')} » refusée : " + " ; ".join(f"{v.code} {v.message}" for v in violations))
    session.add(ApprovalAttempt(flow_run_id=flow_run_id, attempt=attempt, entity_type=kind.entity, entity_id=case.id,
                                step=step, outcome=AttemptOutcome.REFUSED, decision_id=recorded.id,
                                violations=[v.as_dict() for v in violations]))
    session.flush()
    return Outcome(False, violations=[v.as_dict() for v in violations], decision_id=recorded.id)


def _stored_outcome(session: Session, kind: CaseKind, attempt: ApprovalAttempt) -> Outcome:
    if attempt.outcome == AttemptOutcome.REFUSED:
        return Outcome(False, violations=attempt.violations, decision_id=attempt.decision_id)
    decision = session.get(Decision, attempt.decision_id)
    leaves = decision.from_status != decision.to_status
    return Outcome(True, leaves, kind.step_of(decision.to_status) if leaves else None, decision.id)


def _queue_decision_emails(session: Session, kind: CaseKind, case, step: str, decision: str, label: str, agent: Agent,
                           answer: dict, amount_cents: int | None, decision_id: int) -> None:
    transition = f"{step}:{decision}:d{decision_id}"
    next_step = kind.step_of(case.status)
    recipients = list(kind.applicants(session, case))
    if Role(agent.role) != Role.INSTRUCTEUR:
        recipients += [(a.email, a.name) for a in approvals.eligible_agents(session, "instructeur", kind.departement(session, case))]
    emails = []
    for address, name in recipients:
        base = kind.email_base(session, case, name)
        if decision == "rework":
            context = {**base, "etape": kind.step_labels[step],
                       "motif": answer.get("comment") or "voir les observations de la préfecture",
                       "action_attendue": kind.expectations.get(f"{step}:rework") or kind.expectations.get(step)
                       or "Reprendre le dossier selon les observations.",
                       "echeance": answer.get("rework_deadline")}
            emails.append(Email("step_rework", address, context, message_key(kind.entity, case.id, transition, address, "step_rework")))
        else:
            context = {**base, "etape": kind.step_labels[step], "decision": label, "decideur": f"{agent.name} ({agent.role})",
                       "commentaire": answer.get("comment") or None, "montant_cents": amount_cents,
                       "prochaine_etape": kind.step_labels.get(next_step) if next_step else None}
            emails.append(Email("step_decided", address, context, message_key(kind.entity, case.id, transition, address, "step_decided")))
    queue_many(session, emails)
