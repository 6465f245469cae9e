"""The emails of the approval steps: codes to the awaited agents, openings and decisions to the
parties. Each is queued in the caller's transaction with an idempotency key, so a replayed step
queues nothing twice."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from models.actors import ROLE_LABELS, Agent, Role
from models.approval import ApprovalCode
from notifications.outbox import Email, message_key, queue_many
from services.engine import codes
from services.engine.codes import CaseRef
from services.engine.forms import ApprovalForm
from services.engine.kind import Applied, CaseKind, Decision, Step
from services.engine.texts import decider_label, letterhead


def open_transition(ref: CaseRef) -> str:
    """A step can open several times (a new run after a rework, a new round within a run):
    each opening mails its own codes."""
    return f"{ref.step}:{ref.flow_run_id}:r{ref.round}:open"


def approval_email(
    session: Session,
    kind: CaseKind,
    case,
    ref: CaseRef,
    agent: Agent,
    code: ApprovalCode,
    reference: str,
    link: str | None,
    motif: str | None = None,
) -> Email:
    """The email that carries an agent's code (derived from ``reference`` when it is written).
    Keyed by the code's row: each code issued is mailed exactly once."""
    context = {
        **kind.email_base(session, case, agent.name),
        "etape": kind.steps[ref.step].label,
        "role": ROLE_LABELS[Role(agent.role)],
        "resume": kind.summary(session, case) or kind.run_name(session, case, ref.step),
        "code_ref": reference,
        "expire_le": code.expires_at,
        "lien": link or "(lien indisponible)",
        "motif_nouveau_code": motif,
    }
    return Email(
        "approval_requested",
        agent.email,
        context,
        message_key(kind.entity, case.id, open_transition(ref), agent.email, f"approval_requested:c{code.id}"),
    )


def new_code(session: Session, kind: CaseKind, case, ref: CaseRef, agent: Agent, link: str | None, motif: str) -> None:
    """A fresh code for one agent, mailed with the reason the previous one is no longer valid."""
    row, reference = codes.issue_code(session, ref, agent)
    queue_many(session, [approval_email(session, kind, case, ref, agent, row, reference, link, motif)])


def _without_code(session: Session, kind: CaseKind, case, ref: CaseRef, role: str) -> list[Agent]:
    """The agents entitled to decide who hold no usable code (and are not locked out)."""
    exclude = case.instructed_by_agent_id if kind.steps[ref.step].four_eyes else None
    return [
        agent
        for agent in codes.eligible_agents(session, role, kind.departement(session, case), exclude_agent_id=exclude)
        if codes.active_code(session, ref, agent.id) is None and not codes.is_locked_out(session, ref, agent.id)
    ]


def reissue_missing(session: Session, kind: CaseKind, case, ref: CaseRef, role: str, link: str | None) -> int:
    """A code for each entitled agent who has none for this open step (an agent named since it
    opened, codes revoked by an upgrade); returns how many were mailed."""
    agents = _without_code(session, kind, case, ref, role)
    for agent in agents:
        new_code(
            session,
            kind,
            case,
            ref,
            agent,
            link,
            motif="Un code personnel vous est adressé pour cette étape, qui attend votre décision.",
        )
    return len(agents)


REPLACED_RUN = (
    "L'exécution précédente de cette étape a été interrompue par un incident technique et remplacée par "
    "celle-ci : les codes et liens envoyés auparavant ne sont plus valables. Une réponse déjà donnée et "
    "confirmée reste acquise."
)


LOST_ANSWER = (
    "Une réponse donnée à cette étape n'a pas pu être enregistrée à la suite d'un incident technique. "
    "Si vous aviez répondu, merci de répondre de nouveau ; ce code remplace le précédent."
)


def codes_after_lost_answer(session: Session, kind: CaseKind, case, ref: CaseRef, role: str, link: str | None) -> int:
    """An answer was lost with its run (nobody knows whose): every awaited agent gets a new
    code, with the reason; the previous codes are revoked. Returns how many were mailed."""
    for agent in codes.eligible_agents(session, role, kind.departement(session, case)):
        previous = codes.active_code(session, ref, agent.id)
        if previous is not None:
            codes.revoke(session, previous)
    agents = _without_code(session, kind, case, ref, role)
    for agent in agents:
        new_code(session, kind, case, ref, agent, link, motif=LOST_ANSWER)
    return len(agents)


def step_opened(
    session: Session,
    kind: CaseKind,
    case,
    ref: CaseRef,
    role: str,
    link: str | None,
    again: bool,
    first_run_id: str | None = None,
) -> None:
    """One code and one email per entitled agent (not locked out), once per round; the applicants
    are told once per round of the step, even when a lost run was replaced (``first_run_id``)."""
    spec = kind.steps[ref.step]
    emails: list[Email] = []
    motif = REPLACED_RUN if first_run_id and first_run_id != ref.flow_run_id else None
    for agent in _without_code(session, kind, case, ref, role):  # on a replayed opening, nobody: each has a code
        row, reference = codes.issue_code(session, ref, agent)
        emails.append(approval_email(session, kind, case, ref, agent, row, reference, link, motif))
    expected = spec.expectation
    if again:
        expected = spec.expectation_again or (
            "Le dossier repris est de nouveau examiné à cette étape." + (f" {expected}" if expected else "")
        )
    transition = open_transition(replace(ref, flow_run_id=first_run_id) if first_run_id else ref)
    for address, name in kind.applicants(session, case):
        emails.append(
            Email(
                "step_started",
                address,
                {**kind.email_base(session, case, name), "etape": spec.label, "action_attendue": expected},
                message_key(kind.entity, case.id, transition, address, "step_started"),
            )
        )
    queue_many(session, emails)


def decision_taken(
    session: Session,
    kind: CaseKind,
    case,
    spec: Step,
    decision: Decision,
    agent: Agent,
    form: ApprovalForm,
    applied: Applied,
    decision_id: int,
) -> None:
    """The applicants (and the instructeurs, when another role decided) learn the decision."""
    transition = f"{spec.name}:{decision.code}:d{decision_id}"
    next_step = kind.step_of(case.status)
    recipients = list(kind.applicants(session, case))
    if Role(agent.role) != Role.INSTRUCTEUR:
        recipients += [
            (a.email, a.name) for a in codes.eligible_agents(session, "instructeur", kind.departement(session, case))
        ]
    emails = []
    departement = kind.departement(session, case)
    code = None if departement == "national" else departement
    signed = letterhead(session, code, agent) if code else {}
    for address, name in recipients:
        base = {**kind.email_base(session, case, name), **({"signature": signed["signature"]} if code else {})}
        if decision.sends_back:
            context = {
                **base,
                "etape": spec.label,
                "motif": form.comment or "voir les observations de la préfecture",
                "action_attendue": decision.asks or spec.expectation or "Reprendre le dossier selon les observations.",
                "echeance": applied.deadline,
            }
            emails.append(
                Email(
                    "step_rework",
                    address,
                    context,
                    message_key(kind.entity, case.id, transition, address, "step_rework"),
                )
            )
        else:
            context = {
                **base,
                "etape": spec.label,
                "decision": decision.label,
                "decideur": decider_label(session, agent, code),
                "agent": f"{agent.name}, {ROLE_LABELS[Role(agent.role)]}",
                "commentaire": form.comment or None,
                "montant_cents": applied.amount_cents,
                "prochaine_etape": kind.steps[next_step].label if next_step else None,
                "recours": decision.unfavourable,
            }
            emails.append(
                Email(
                    "step_decided",
                    address,
                    context,
                    message_key(kind.entity, case.id, transition, address, "step_decided"),
                )
            )
    queue_many(session, emails)
