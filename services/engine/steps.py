"""Approval steps as transactions, for any kind of case (CTAI contract, PTAI request, batch).

Opening a step issues one personal code per entitled agent and queues the emails; judging an
answer checks the decider (agent, role, département, four eyes, code), the form and the rules,
then moves the case through its state machine, records the Decision and queues the emails, in
one transaction. Both are idempotent, because a resumed Prefect run executes its flow again from
the top: opening twice issues no second code and queues no second email; judging an answer
already judged returns the stored outcome.

What differs between kinds of case (state machine, steps, forms, texts, parties) is a ``CaseKind``.
"""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import ROLE_LABELS, Agent, Role
from models.approval import ApprovalAttempt, AttemptOutcome, StepRunState, check_decider, check_four_eyes
from models.choices import decision_code
from models.decision import Decision
from models.errors import RuleViolation, TransitionNotAllowed, Violation
from notifications.outbox import Email, message_key, queue_many
from services.db import is_postgresql
from services.engine import codes, runs
from services.engine.audit import Actor, record_decision
from services.engine.codes import CaseRef
from services.engine.forms import ApprovalForm, parse_answer
from services.engine.kind import Applied, CaseKind, NotAtStep, Outcome, StepView

__all__ = ["Applied", "NotAtStep", "Outcome", "StepView", "decide", "launch_info", "lock", "open_step"]


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
    row = runs.attach(session, trigger, flow_run_id) if trigger else runs.for_run(session, flow_run_id)
    if row is None:
        raise NotAtStep(f"[{NotAtStep.code}] l'exécution {flow_run_id} n'est inscrite pour aucune étape")
    role = kind.awaited_role(step)
    if row.state == StepRunState.DONE:
        closing = session.get(Decision, row.closing_decision_id)
        return StepView(case.id, step, "done", row.round, 0, "", kind.run_name(session, case, step), role,
                        row.closing_decision_id, kind.step_of(closing.to_status))
    if case.status != kind.steps[step].status:
        raise NotAtStep(f"[{NotAtStep.code}] le dossier {case.reference} est au statut « {case.status} », "
                        f"pas à l'étape « {kind.steps[step].label} »")
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    _issue_codes(session, kind, case, ref, role, link)
    runs.mark_opened(session, row)
    attempts = codes.attempts_of(session, flow_run_id)
    refusal = None
    if attempts and attempts[-1].outcome == AttemptOutcome.REFUSED:
        refusal = [Violation(**v) for v in attempts[-1].violations]
    return StepView(case.id, step, "open", row.round, len(attempts) + 1,
                    kind.description(session, case, step, role, refusal), kind.run_name(session, case, step), role)


def _issue_codes(session: Session, kind: CaseKind, case, ref: CaseRef, role: str, link: str | None) -> None:
    """One code and one email per entitled agent, once per round; the applicants are told."""
    spec = kind.steps[ref.step]
    exclude = case.instructed_by_agent_id if spec.four_eyes else None
    agents = codes.eligible_agents(session, role, kind.departement(session, case), exclude_agent_id=exclude)
    transition = open_transition(ref)
    emails: list[Email] = []
    for agent in agents:
        if codes.active_code(session, ref, agent.id) is not None:
            continue  # replay of an opened step: the agent has a code already
        code_row, code = codes.issue_code(session, ref, agent)
        emails.append(approval_email(session, kind, case, ref, agent, code, code_row.expires_at, link, transition))
    again = runs.opened_before(session, kind.entity, case.id, ref.step, ref.flow_run_id) or ref.round > 1
    expected = spec.expectation
    if again:
        expected = spec.expectation_again or (
            "Le dossier repris est de nouveau examiné à cette étape." + (f" {expected}" if expected else ""))
    for address, name in kind.applicants(session, case):
        emails.append(Email("step_started", address, {
            **kind.email_base(session, case, name), "etape": spec.label, "action_attendue": expected},
            message_key(kind.entity, case.id, transition, address, "step_started")))
    queue_many(session, emails)


def open_transition(ref: CaseRef) -> str:
    """A step can open several times (a new run after a rework, a new round within a run):
    each opening mails its own codes."""
    return f"{ref.step}:{ref.flow_run_id}:r{ref.round}:open"


def approval_email(session: Session, kind: CaseKind, case, ref: CaseRef, agent: Agent, code: str, expires_at,
                   link: str | None, transition: str, motif: str | None = None) -> Email:
    context = {**kind.email_base(session, case, agent.name), "etape": kind.steps[ref.step].label,
               "role": ROLE_LABELS[Role(agent.role)],
               "resume": kind.summary(session, case) or kind.run_name(session, case, ref.step),
               "code": code, "expire_le": expires_at, "lien": link or "(lien indisponible)",
               "motif_nouveau_code": motif}
    key_kind = "approval_requested" if motif is None else f"approval_requested:{expires_at.isoformat()}"
    return Email("approval_requested", agent.email, context, message_key(kind.entity, case.id, transition, agent.email, key_kind))


# --- Judging an answer --------------------------------------------------------------------------

def decide(session: Session, kind: CaseKind, *, entity_id: int, step: str, flow_run_id: str, attempt: int,
           answer: dict | ApprovalForm, link: str | None) -> Outcome:
    """Judges the answer given to ``attempt`` (the form's values, as the flow read them)."""
    done = codes.recorded_attempt(session, flow_run_id, attempt)
    if done is not None:
        return _stored_outcome(session, kind, done)
    raw = answer.model_dump() if isinstance(answer, ApprovalForm) else dict(answer)
    case = lock(session, kind, entity_id)
    row = runs.for_run(session, flow_run_id)
    spec = kind.steps[step]
    role = kind.awaited_role(step)
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    email = str(raw.get("agent_email") or "").strip().lower()
    agent = session.exec(select(Agent).where(Agent.email == email)).first()

    violations = check_decider(agent_found=agent is not None, agent_role=agent and agent.role,
                               agent_departement=agent and agent.departement_code, agent_active=bool(agent and agent.active),
                               awaited_role=role, departement=kind.departement(session, case), email=email)
    if agent is not None and spec.four_eyes:
        violations = check_four_eyes(agent.id, case.instructed_by_agent_id) or violations
    code_row = None
    if not violations:
        code_row, violations, reissue = codes.verify(session, ref, agent, str(raw.get("approval_code") or ""))
        if reissue:
            new_row, code = codes.issue_code(session, ref, agent)
            queue_many(session, [approval_email(session, kind, case, ref, agent, code, new_row.expires_at, link,
                                                open_transition(ref), motif=violations[0].message)])
    form = None
    if not violations:
        form, violations = parse_answer(spec.form, answer)
    if violations:
        given = raw.get("decision")
        decision = decision_code(kind.entity, step, given) if isinstance(given, str) else given
        return _refuse(session, kind, case, step, flow_run_id, attempt, email, agent, decision, violations)

    decision = form.decision_code
    before = case.status
    try:
        with session.begin_nested():
            kind.machine.transition(case.status, decision)  # an impossible decision is refused before the handler runs
            applied = spec.handler(session, case, decision, form)
            transition = kind.machine.apply(case, decision, checks=applied.checks)
            session.add(case)
    except (RuleViolation, TransitionNotAllowed) as exc:
        session.expire_all()
        case = lock(session, kind, entity_id)
        found = exc.violations if isinstance(exc, RuleViolation) else [Violation(exc.code, "decision", str(exc))]
        return _refuse(session, kind, case, step, flow_run_id, attempt, email, agent, decision, found)

    codes.spend(session, code_row)
    if Role(agent.role) == Role.INSTRUCTEUR:
        case.instructed_by_agent_id = agent.id
    recorded = record_decision(session, entity_type=kind.entity, entity_id=case.id, step=step, from_status=before,
                               to_status=case.status, actor=Actor(agent.email, agent.id), decision=decision,
                               comment=form.comment or None, amount_cents=applied.amount_cents)
    leaves = transition.target != transition.source
    if leaves:
        runs.close(session, row, recorded.id)
    else:
        row.round += 1  # a rework inside the step: a new round, new codes
        session.add(row)
    kind.after_decision(session, case, transition, agent, form)
    _queue_decision_emails(session, kind, case, step, decision, transition.label, agent, form, applied, recorded.id)
    session.add(ApprovalAttempt(flow_run_id=flow_run_id, attempt=attempt, entity_type=kind.entity, entity_id=case.id,
                                step=step, outcome=AttemptOutcome.ACCEPTED, decision_id=recorded.id))
    session.flush()
    return Outcome(True, leaves, kind.step_of(case.status) if leaves else None, recorded.id)


def _refuse(session: Session, kind: CaseKind, case, step: str, flow_run_id: str, attempt: int, email: str,
            agent: Agent | None, decision: str | None, violations: list[Violation]) -> Outcome:
    """Nothing changes but the audit trail: the attempt is recorded, the form asks again."""
    recorded = record_decision(
        session, entity_type=kind.entity, entity_id=case.id, step=step, from_status=case.status, to_status=case.status,
        actor=Actor(email or "(courriel non renseigné)", agent.id if agent else None), decision="refus",
        comment=f"décision « {decision} » refusée : " + " ; ".join(f"{v.code} {v.message}" for v in violations))
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
                           form: ApprovalForm, applied: Applied, decision_id: int) -> None:
    transition = f"{step}:{decision}:d{decision_id}"
    spec = kind.steps[step]
    next_step = kind.step_of(case.status)
    recipients = list(kind.applicants(session, case))
    if Role(agent.role) != Role.INSTRUCTEUR:
        recipients += [(a.email, a.name) for a in codes.eligible_agents(session, "instructeur", kind.departement(session, case))]
    emails = []
    for address, name in recipients:
        base = kind.email_base(session, case, name)
        if decision == "rework":
            context = {**base, "etape": spec.label,
                       "motif": form.comment or "voir les observations de la préfecture",
                       "action_attendue": spec.expectation_rework or spec.expectation
                       or "Reprendre le dossier selon les observations.",
                       "echeance": applied.deadline}
            emails.append(Email("step_rework", address, context, message_key(kind.entity, case.id, transition, address, "step_rework")))
        else:
            context = {**base, "etape": spec.label, "decision": label, "decideur": f"{agent.name} ({agent.role})",
                       "commentaire": form.comment or None, "montant_cents": applied.amount_cents,
                       "prochaine_etape": kind.steps[next_step].label if next_step else None}
            emails.append(Email("step_decided", address, context, message_key(kind.entity, case.id, transition, address, "step_decided")))
    queue_many(session, emails)
