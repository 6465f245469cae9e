"""Approval steps as transactions, for any kind of case (CTAI contract, PTAI request, batch).

Opening a step issues one personal code per entitled agent and queues the emails; judging an
answer checks the decider (agent, role, département, four eyes, code), the form and the rules,
then moves the case through its state machine, records the Decision and queues the emails, in
one transaction. Both are idempotent, because a resumed Prefect run executes its flow again from
the top: opening twice issues no second code and queues no second email; judging an answer
already judged returns the stored outcome.

A right code is spent as soon as it is checked: if the answer is then refused (a missing field,
a broken rule), the agent gets a new code by email for the next try.

What differs between kinds of case (state machine, steps, forms, texts, parties) is a ``CaseKind``.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from models.actors import Agent, Role
from models.approval import (
    NOT_AUTHENTICATED,
    ApprovalAttempt,
    AttemptOutcome,
    StepRunState,
    check_decider,
    check_four_eyes,
)
from models.decision import Decision
from models.errors import RuleViolation, TransitionNotAllowed, Violation
from services.engine import codes, lockout, mail, money, runs
from services.engine.audit import Actor, record_decision
from services.engine.codes import CaseRef
from services.engine.forms import ApprovalForm, parse_answer
from services.engine.kind import Applied, CaseKind, NotAtStep, Outcome, StepView

__all__ = ["Applied", "NotAtStep", "Outcome", "StepView", "decide", "launch_info", "open_step"]

log = logging.getLogger("territoires.approbations")
CODE_EXPOSED = (
    "Votre code a été saisi dans le champ « courriel » d'un formulaire, où il a pu être lu : il est "
    "remplacé par celui-ci."
)


def launch_info(session: Session, kind: CaseKind, entity_id: int, step: str) -> dict:
    """Name, tags and awaited role of a step's run, so agents can filter the UI."""
    case = session.get(kind.model, entity_id)
    role = kind.awaited_role(step)
    return {
        "run_name": kind.run_name(session, case, step),
        "awaited_role": role,
        "tags": [kind.entity, f"dept:{kind.departement(session, case)}", f"step:{step}", f"awaiting:{role}"],
    }


# --- Opening a step -----------------------------------------------------------------------------


def open_step(
    session: Session,
    kind: CaseKind,
    *,
    entity_id: int,
    step: str,
    flow_run_id: str,
    trigger: str | None,
    link: str | None,
    worker: str | None = None,
) -> StepView:
    case = kind.lock(session, entity_id)
    row = runs.attach(session, trigger, flow_run_id) if trigger else runs.for_run(session, flow_run_id)
    if row is None or row.flow_run_id != flow_run_id:  # e.g. a run replaced after it was thought lost
        raise NotAtStep(f"[{NotAtStep.code}] l'exécution {flow_run_id} n'est inscrite pour aucune étape")
    if worker:
        runs.record_worker(session, row, worker)
    role = kind.awaited_role(step)
    attempts = codes.attempts_of(session, flow_run_id)
    if row.state == StepRunState.DONE:
        closing = session.get(Decision, row.closing_decision_id)
        return StepView(
            case.id,
            step,
            "done",
            row.round,
            len(attempts) + 1,
            "",
            kind.run_name(session, case, step),
            role,
            row.closing_decision_id,
            kind.step_of(closing.to_status),
            row.restarts,
        )
    if case.status != kind.steps[step].status:
        raise NotAtStep(
            f"[{NotAtStep.code}] le dossier {case.reference} est au statut « {case.status} », "
            f"pas à l'étape « {kind.steps[step].label} »"
        )
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    again = runs.opened_before(session, kind.entity, case.id, step, flow_run_id) or row.round > 1
    mail.step_opened(session, kind, case, ref, role, link, again, first_run_id=row.first_run_id)
    runs.mark_opened(session, row)
    refusal = None
    if attempts and attempts[-1].outcome == AttemptOutcome.REFUSED:
        refusal = [Violation(**v) for v in attempts[-1].violations]
    return StepView(
        case.id,
        step,
        "open",
        row.round,
        len(attempts) + 1,
        kind.description(session, case, step, role, refusal),
        kind.run_name(session, case, step),
        role,
        generation=row.restarts,
    )


# --- Judging an answer --------------------------------------------------------------------------


def decide(
    session: Session,
    kind: CaseKind,
    *,
    entity_id: int,
    step: str,
    flow_run_id: str,
    attempt: int,
    answer: dict | ApprovalForm,
    link: str | None,
) -> Outcome:
    """Judges the answer given to ``attempt`` (the form's values, as the flow read them)."""
    done = codes.recorded_attempt(session, flow_run_id, attempt)
    if done is not None:
        return _stored_outcome(session, kind, done)
    raw = answer.model_dump() if isinstance(answer, ApprovalForm) else dict(answer)
    case = kind.lock(session, entity_id)
    row = runs.for_run(session, flow_run_id)
    spec = kind.steps[step]
    ref = CaseRef(flow_run_id, kind.entity, case.id, step, row.round)
    email = str(raw.get("agent_email") or "").strip().lower()[:254]
    agent = session.exec(select(Agent).where(Agent.email == email)).first()
    given = raw.get("decision")
    refused = spec.code_of(given) if isinstance(given, str) else None

    # Until the code is accepted, every failure gets the same public answer: the form must tell
    # nobody whether an address is an awaited agent's, nor the state of that agent's code.
    violations = check_decider(
        agent_found=agent is not None,
        agent_role=agent and agent.role,
        agent_departement=agent and agent.departement_code,
        agent_active=bool(agent and agent.active),
        awaited_role=kind.awaited_role(step),
        departement=kind.departement(session, case),
        email=email,
    )
    if not violations and spec.four_eyes:
        violations = check_four_eyes(agent.id, case.instructed_by_agent_id)
    if violations:
        for owner in codes.burn_typed_code(session, ref, email):  # a code typed in the address field is replaced
            mail.new_code(session, kind, case, ref, owner, link, motif=CODE_EXPOSED)
        log.info("réponse refusée (%s) à l'exécution %s : %s", step, flow_run_id, violations[0].code)
        return _refuse(session, kind, case, ref, attempt, None, None, refused, [NOT_AUTHENTICATED])
    check = codes.verify(session, ref, agent, str(raw.get("approval_code") or "")[:40])
    if check.reissue:
        mail.new_code(session, kind, case, ref, agent, link, motif=check.violations[0].message)
    if check.locked_now:
        lockout.alert(session, kind, case, ref, agent, link)
    if check.violations:
        log.info("réponse refusée (%s) à l'exécution %s : %s", step, flow_run_id, check.violations[0].code)
        return _refuse(session, kind, case, ref, attempt, None, None, refused, [NOT_AUTHENTICATED])

    # The code is spent: from here on, a refused answer earns the agent a new code.
    form, violations = parse_answer(spec.form, answer)
    if violations:
        return _refuse(
            session, kind, case, ref, attempt, email, agent, refused, violations, reissue_to=agent, link=link
        )
    decision = form.decision_code
    declared = spec.decision(decision)
    before = case.status
    try:
        with session.begin_nested():
            kind.machine.transition(case.status, decision)  # an impossible decision is refused before the handler runs
            applied = spec.handler(session, case, decision, form)
            transition = kind.machine.apply(case, decision, checks=applied.checks)
            session.add(case)
    except (RuleViolation, TransitionNotAllowed) as exc:
        session.expire_all()
        case = kind.lock(session, entity_id)
        found = exc.violations if isinstance(exc, RuleViolation) else [Violation(exc.code, "decision", str(exc))]
        return _refuse(session, kind, case, ref, attempt, email, agent, decision, found, reissue_to=agent, link=link)

    if Role(agent.role) == Role.INSTRUCTEUR:
        case.instructed_by_agent_id = agent.id
    recorded = record_decision(
        session,
        entity_type=kind.entity,
        entity_id=case.id,
        step=step,
        from_status=before,
        to_status=case.status,
        actor=Actor(agent.email, agent.id),
        decision=decision,
        comment=form.comment or None,
        amount_cents=applied.amount_cents,
    )
    leaves = transition.target != transition.source
    if leaves:
        runs.close(session, row, recorded.id)
    else:
        row.round += 1  # a rework inside the step: a new round, new codes
        session.add(row)
    if declared.grants:  # the money chain: the legal acts of what the decision funds
        money.granted(session, kind.entity, case.id)
    kind.after_decision(session, case, transition, agent, form)
    mail.decision_taken(session, kind, case, spec, declared, agent, form, applied, recorded.id)
    session.add(
        ApprovalAttempt(
            flow_run_id=flow_run_id,
            attempt=attempt,
            entity_type=kind.entity,
            entity_id=case.id,
            step=step,
            outcome=AttemptOutcome.ACCEPTED,
            decision_id=recorded.id,
        )
    )
    session.flush()
    return Outcome(True, leaves, kind.step_of(case.status) if leaves else None, recorded.id, grants=declared.grants)


def _refuse(
    session: Session,
    kind: CaseKind,
    case,
    ref: CaseRef,
    attempt: int,
    email: str | None,
    agent: Agent | None,
    decision: str | None,
    violations: list[Violation],
    *,
    reissue_to: Agent | None = None,
    link: str | None = None,
) -> Outcome:
    """Nothing changes but the audit trail: the attempt is recorded, the form asks again, and an
    agent whose code was spent on this answer gets a new one. Before the code is accepted, what
    was typed is not recorded (it may be a code typed in the wrong field)."""
    recorded = record_decision(
        session,
        entity_type=kind.entity,
        entity_id=case.id,
        step=ref.step,
        from_status=case.status,
        to_status=case.status,
        actor=Actor(email or "(réponse non identifiée)", agent.id if agent else None),
        decision="refus",
        comment=f"décision « {decision or '?'} » refusée : " + " ; ".join(f"{v.code} {v.message}" for v in violations),
    )
    if reissue_to is not None:
        mail.new_code(
            session,
            kind,
            case,
            ref,
            reissue_to,
            link,
            motif="Votre réponse a été refusée (le motif est affiché "
            "en haut du formulaire) ; le code utilisé n'est plus valable. Voici un nouveau code pour répondre à "
            "nouveau.",
        )
    session.add(
        ApprovalAttempt(
            flow_run_id=ref.flow_run_id,
            attempt=attempt,
            entity_type=kind.entity,
            entity_id=case.id,
            step=ref.step,
            outcome=AttemptOutcome.REFUSED,
            decision_id=recorded.id,
            violations=[v.as_dict() for v in violations],
        )
    )
    session.flush()
    return Outcome(False, violations=[v.as_dict() for v in violations], decision_id=recorded.id)


def _stored_outcome(session: Session, kind: CaseKind, attempt: ApprovalAttempt) -> Outcome:
    if attempt.outcome == AttemptOutcome.REFUSED:
        return Outcome(False, violations=attempt.violations, decision_id=attempt.decision_id)
    decision = session.get(Decision, attempt.decision_id)
    leaves = decision.from_status != decision.to_status
    grants = kind.steps[decision.step].decision(decision.decision).grants
    return Outcome(True, leaves, kind.step_of(decision.to_status) if leaves else None, decision.id, grants=grants)
