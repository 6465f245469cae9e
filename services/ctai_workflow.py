"""The CTAI steps as transactions: opening a step, and judging one answer to its form.

Both are idempotent, because a resumed Prefect run executes its flow again from the top:
opening twice issues no second code and queues no second email; judging an answer already
judged returns the stored outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from models.actors import Agent, Collectivite, Role
from models.approval import ApprovalAttempt, AttemptOutcome, StepRunState, check_decider, check_four_eyes
from models.ctai import (
    CTAI_MACHINE, STATUS_OF_STEP, STEP_EXPECTATIONS, STEP_LABELS, STEP_OF_STATUS, Ctai, CtaiKind, CtaiStatus,
    apply_decision, check_signatory, ctai_reference,
)
from models.decision import Decision
from models.errors import DomainError, RuleViolation, TransitionNotAllowed, Violation, raise_if_any
from models.reference import Public, campaign_rules
from notifications.outbox import Email, message_key, queue_many
from services import approvals, steps
from services.approvals import CaseRef
from services.audit import SYSTEM, Actor, record_decision
from services.ctai_steps import FOUR_EYES_STEPS, HANDLERS, contract_records, copy_from_ctair, ctair_of
from services.ctai_text import email_base, form_description, run_name
from services.db import is_postgresql

ENTITY = "ctai"


class NotAtStep(DomainError):
    code = "ETAPE_NON_ATTENDUE"


@dataclass
class StepView:
    """What the flow needs to wait: JSON-friendly, so Prefect can persist it."""

    ctai_id: int
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


def awaited_role(step: str) -> str:
    roles = {t.role for t in CTAI_MACHINE.allowed(STATUS_OF_STEP[step]) if t.role is not None}
    return str(roles.pop())


def _lock(session: Session, ctai_id: int) -> Ctai:
    stmt = select(Ctai).where(Ctai.id == ctai_id)
    if is_postgresql(session):
        stmt = stmt.with_for_update()
    ctai = session.exec(stmt).first()
    if ctai is None:
        raise NotAtStep(f"[{NotAtStep.code}] aucun CTAI n° {ctai_id}")
    return ctai


def _departement(session: Session, ctai: Ctai) -> str:
    return session.get(Collectivite, ctai.collectivite_id).departement_code


# --- Opening a step -----------------------------------------------------------------------------

def open_step(session: Session, *, ctai_id: int, step: str, flow_run_id: str, trigger: str | None,
              link: str | None) -> StepView:
    ctai = _lock(session, ctai_id)
    row = steps.attach(session, trigger, flow_run_id) if trigger else steps.for_run(session, flow_run_id)
    if row is None:
        raise NotAtStep(f"[{NotAtStep.code}] l'exécution {flow_run_id} n'est inscrite pour aucune étape")
    role = awaited_role(step)
    if row.state == StepRunState.DONE:
        closing = session.get(Decision, row.closing_decision_id)
        return StepView(ctai_id, step, "done", row.round, 0, "", run_name(session, ctai, step), role,
                        row.closing_decision_id, STEP_OF_STATUS.get(CtaiStatus(closing.to_status)))
    if ctai.status != STATUS_OF_STEP[step]:
        raise NotAtStep(f"[{NotAtStep.code}] le CTAI {ctai.reference} est au statut « {ctai.status} », "
                        f"pas à l'étape « {STEP_LABELS[step]} »")
    ref = CaseRef(flow_run_id, ENTITY, ctai.id, step, row.round)
    _issue_codes(session, ctai, ref, role, link)
    steps.mark_opened(session, row)
    attempts = approvals.attempts_of(session, flow_run_id)
    refusal = None
    if attempts and attempts[-1].outcome == AttemptOutcome.REFUSED:
        refusal = [Violation(**v) for v in attempts[-1].violations]
    return StepView(ctai.id, step, "open", row.round, len(attempts) + 1,
                    form_description(session, ctai, step, role, refusal), run_name(session, ctai, step), role)


def _issue_codes(session: Session, ctai: Ctai, ref: CaseRef, role: str, link: str | None) -> None:
    """One code and one email per eligible agent, once per round; the collectivité is told."""
    exclude = ctai.instructed_by_agent_id if ref.step in FOUR_EYES_STEPS else None
    agents = approvals.eligible_agents(session, role, _departement(session, ctai), exclude_agent_id=exclude)
    emails: list[Email] = []
    transition = f"{ref.step}:r{ref.round}:open"
    for agent in agents:
        if approvals.active_code(session, ref, agent.id) is not None:
            continue  # replay of an opened step: the agent has a code already
        code_row, code = approvals.issue_code(session, ref, agent)
        emails.append(_approval_email(session, ctai, ref, agent, code, code_row.expires_at, link, transition))
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    emails.append(Email("step_started", collectivite.email, {
        **email_base(session, ctai, collectivite.name), "etape": STEP_LABELS[ref.step],
        "action_attendue": STEP_EXPECTATIONS.get(ref.step)}, message_key(ENTITY, ctai.id, transition, collectivite.email, "step_started")))
    queue_many(session, emails)


def _approval_email(session: Session, ctai: Ctai, ref: CaseRef, agent: Agent, code: str, expires_at, link: str | None,
                    transition: str, motif: str | None = None) -> Email:
    funding, actions, _ = contract_records(session, ctai)
    summary = f"{len(actions)} action(s) ; " + " ; ".join(
        f"{f.year} : {f.socle_cents // 100:,} € + {f.complementary_cents // 100:,} €".replace(",", " ") for f in funding)
    context = {**email_base(session, ctai, agent.name), "etape": STEP_LABELS[ref.step],
               "role": str(agent.role), "resume": summary if funding or actions else "Contrat en préparation.",
               "code": code, "expire_le": expires_at, "lien": link or "(lien indisponible)",
               "motif_nouveau_code": motif}
    kind = "approval_requested" if motif is None else f"approval_requested:{expires_at.isoformat()}"
    return Email("approval_requested", agent.email, context, message_key(ENTITY, ctai.id, transition, agent.email, kind))


# --- Judging an answer --------------------------------------------------------------------------

def decide(session: Session, *, ctai_id: int, step: str, flow_run_id: str, attempt: int, answer: dict,
           link: str | None) -> Outcome:
    done = approvals.recorded_attempt(session, flow_run_id, attempt)
    if done is not None:
        return _stored_outcome(session, done)
    ctai = _lock(session, ctai_id)
    row = steps.for_run(session, flow_run_id)
    role = awaited_role(step)
    ref = CaseRef(flow_run_id, ENTITY, ctai.id, step, row.round)
    email = str(answer.get("agent_email") or "").strip().lower()
    agent = session.exec(select(Agent).where(Agent.email == email)).first()

    violations = check_decider(agent_found=agent is not None, agent_role=agent and agent.role,
                               agent_departement=agent and agent.departement_code, agent_active=bool(agent and agent.active),
                               awaited_role=role, departement=_departement(session, ctai), email=email)
    if agent is not None and step in FOUR_EYES_STEPS:
        violations = check_four_eyes(agent.id, ctai.instructed_by_agent_id) or violations
    code_row = None
    if not violations:
        code_row, violations, reissue = approvals.verify(session, ref, agent, str(answer.get("approval_code") or ""))
        if reissue:
            new_row, code = approvals.issue_code(session, ref, agent)
            queue_many(session, [_approval_email(session, ctai, ref, agent, code, new_row.expires_at, link,
                                                 f"{step}:r{ref.round}:open", motif=violations[0].message)])
    if violations:
        return _refuse(session, ctai, step, flow_run_id, attempt, email, agent, answer, violations)

    decision = str(answer.get("decision"))
    before = ctai.status
    try:
        with session.begin_nested():
            applied = HANDLERS[step](session, ctai, decision, answer)
            transition = apply_decision(ctai, decision, checks=applied.checks)
            session.add(ctai)
    except (RuleViolation, TransitionNotAllowed, ValueError) as exc:
        session.expire_all()
        ctai = _lock(session, ctai_id)
        found = exc.violations if isinstance(exc, RuleViolation) else [Violation(getattr(exc, "code", "CHAMP_INVALIDE"), "decision", str(exc))]
        return _refuse(session, ctai, step, flow_run_id, attempt, email, agent, answer, found)

    approvals.spend(session, code_row)
    if Role(agent.role) == Role.INSTRUCTEUR:
        ctai.instructed_by_agent_id = agent.id
    recorded = record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step=step, from_status=before,
                               to_status=ctai.status, actor=Actor(agent.email, agent.id), decision=decision,
                               comment=answer.get("comment") or None, amount_cents=applied.amount_cents)
    leaves = transition.target != transition.source
    if leaves:
        steps.close(session, row, recorded.id)
    else:
        row.round += 1  # a rework inside the step: a new round, new codes
        session.add(row)
    if step == "elargissement" and decision == "sign":
        _replace_ctair(session, ctai, agent)
    _queue_decision_emails(session, ctai, step, decision, transition.label, agent, answer, applied.amount_cents, recorded.id)
    session.add(ApprovalAttempt(flow_run_id=flow_run_id, attempt=attempt, entity_type=ENTITY, entity_id=ctai.id,
                                step=step, outcome=AttemptOutcome.ACCEPTED, decision_id=recorded.id))
    session.flush()
    next_step = STEP_OF_STATUS.get(CtaiStatus(ctai.status)) if leaves else None
    return Outcome(True, leaves, next_step, recorded.id)


def _refuse(session: Session, ctai: Ctai, step: str, flow_run_id: str, attempt: int, email: str, agent: Agent | None,
            answer: dict, violations: list[Violation]) -> Outcome:
    """Nothing changes but the audit trail: the attempt is recorded, the form asks again."""
    recorded = record_decision(
        session, entity_type=ENTITY, entity_id=ctai.id, step=step, from_status=ctai.status, to_status=ctai.status,
        actor=Actor(email or "(courriel non renseigné)", agent.id if agent else None), decision="refus",
        comment=f"décision « {answer.get('decision')} » refusée : " + " ; ".join(f"{v.code} {v.message}" for v in violations))
    session.add(ApprovalAttempt(flow_run_id=flow_run_id, attempt=attempt, entity_type=ENTITY, entity_id=ctai.id,
                                step=step, outcome=AttemptOutcome.REFUSED, decision_id=recorded.id,
                                violations=[v.as_dict() for v in violations]))
    session.flush()
    return Outcome(False, violations=[v.as_dict() for v in violations], decision_id=recorded.id)


def _stored_outcome(session: Session, attempt: ApprovalAttempt) -> Outcome:
    if attempt.outcome == AttemptOutcome.REFUSED:
        return Outcome(False, violations=attempt.violations, decision_id=attempt.decision_id)
    decision = session.get(Decision, attempt.decision_id)
    leaves = decision.from_status != decision.to_status
    return Outcome(True, leaves, STEP_OF_STATUS.get(CtaiStatus(decision.to_status)) if leaves else None, decision.id)


def _replace_ctair(session: Session, ctai: Ctai, agent: Agent) -> None:
    ctair = ctair_of(session, ctai)
    if ctair is None:
        return
    before = ctair.status
    apply_decision(ctair, "replaced")
    session.add(ctair)
    record_decision(session, entity_type=ENTITY, entity_id=ctair.id, step="elargissement", from_status=before,
                    to_status=ctair.status, actor=Actor(agent.email, agent.id), decision="replaced",
                    comment=f"remplacé par {ctai.reference}")


def _queue_decision_emails(session: Session, ctai: Ctai, step: str, decision: str, label: str, agent: Agent,
                           answer: dict, amount_cents: int | None, decision_id: int) -> None:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    transition = f"{step}:{decision}:d{decision_id}"
    next_step = STEP_OF_STATUS.get(CtaiStatus(ctai.status))
    recipients = [(collectivite.email, collectivite.name)]
    if Role(agent.role) != Role.INSTRUCTEUR:
        recipients += [(a.email, a.name) for a in approvals.eligible_agents(session, "instructeur", collectivite.departement_code)]
    emails = []
    for address, name in recipients:
        base = email_base(session, ctai, name)
        if decision == "rework":
            context = {**base, "etape": STEP_LABELS[step], "motif": answer.get("comment") or "voir les observations de la préfecture",
                       "action_attendue": STEP_EXPECTATIONS.get(step) or "Reprendre le dossier selon les observations."}
            emails.append(Email("step_rework", address, context, message_key(ENTITY, ctai.id, transition, address, "step_rework")))
        else:
            context = {**base, "etape": STEP_LABELS[step], "decision": label, "decideur": f"{agent.name} ({agent.role})",
                       "commentaire": answer.get("comment") or None, "montant_cents": amount_cents,
                       "prochaine_etape": STEP_LABELS.get(next_step) if next_step else None}
            emails.append(Email("step_decided", address, context, message_key(ENTITY, ctai.id, transition, address, "step_decided")))
    queue_many(session, emails)



# --- Starting a contract ------------------------------------------------------------------------

def launch_info(session: Session, ctai_id: int, step: str) -> dict:
    """Name, tags and awaited role of a step's run, so agents can filter the UI."""
    ctai = session.get(Ctai, ctai_id)
    role = awaited_role(step)
    return {"run_name": run_name(session, ctai, step), "awaited_role": role,
            "tags": ["ctai", f"dept:{_departement(session, ctai)}", f"step:{step}", f"awaiting:{role}"]}


def create(session: Session, *, collectivite_id: int, first_year: int, years: int = 3,
           from_ctair_id: int | None = None) -> tuple[Ctai, bool]:
    """A new contract at its first step, or the one already under way for this collectivité
    (so that running ``ctai start`` again after a crash resumes instead of duplicating)."""
    collectivite = session.get(Collectivite, collectivite_id)
    if collectivite is None:
        raise RuleViolation([Violation("COLLECTIVITE_INCONNUE", "collectivite", f"aucune collectivité n° {collectivite_id}")])
    ongoing = session.exec(select(Ctai).where(
        Ctai.collectivite_id == collectivite_id, Ctai.kind == CtaiKind.CTAI,
        Ctai.status.in_([s for s in STEP_OF_STATUS]))).first()
    if ongoing is not None:
        return ongoing, False
    violations = check_signatory(collectivite.type, campaign_rules(first_year))
    ctair = None
    if from_ctair_id is not None:
        ctair = session.get(Ctai, from_ctair_id)
        if ctair is None or ctair.kind != CtaiKind.CTAIR or ctair.collectivite_id != collectivite_id \
                or ctair.status != CtaiStatus.ACTIVE:
            violations.append(Violation("CTAIR_INVALIDE", "from_ctair", f"le n° {from_ctair_id} n'est pas un CTAIR en cours de cette collectivité"))
    raise_if_any(violations)
    ctai = Ctai(collectivite_id=collectivite_id, first_year=first_year, last_year=first_year + years - 1,
                status=CtaiStatus.WIDENING if ctair else CtaiStatus.AWAITING_LETTER,
                public_scope=Public.PRIMO_ARRIVANTS if ctair else Public.BPI,
                replaces_ctair_id=ctair.id if ctair else None)
    session.add(ctai)
    session.flush()
    ctai.reference = ctai_reference(collectivite.departement_code, first_year, ctai.id)
    if ctair is not None:
        copy_from_ctair(session, ctair, ctai)
    record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step="creation", from_status=None,
                    to_status=ctai.status, actor=Actor(f"collectivité : {collectivite.name}"), decision="created",
                    comment=f"élargissement du CTAIR {ctair.reference}" if ctair else None)
    return ctai, True


def open_yearly_review(session: Session, ctai_id: int) -> Ctai:
    """ACTIVE → YEARLY_REVIEW, recorded as a system decision; the bilan step then waits."""
    ctai = _lock(session, ctai_id)
    before = ctai.status
    apply_decision(ctai, "open_review")
    session.add(ctai)
    record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step="bilan", from_status=before,
                    to_status=ctai.status, actor=SYSTEM, decision="open_review")
    return ctai
