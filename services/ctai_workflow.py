"""The CTAI contracting steps: the contract as a kind of case for the step engine, and the
transactions that create a contract or open its yearly review."""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import Agent, Collectivite
from models.ctai import (
    CTAI_MACHINE, STATUS_OF_STEP, STEP_EXPECTATIONS, STEP_LABELS, STEP_OF_STATUS, Ctai, CtaiKind, CtaiStatus,
    apply_decision, check_signatory, ctai_reference,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.reference import Public, campaign_rules
from services import step_engine
from services.audit import SYSTEM, Actor, record_decision
from services.ctai_steps import FOUR_EYES_STEPS, HANDLERS, copy_from_ctair, ctair_of
from services.ctai_text import email_base, form_description, run_name, summary
from services.step_engine import CaseKind, NotAtStep, Outcome, StepView

__all__ = ["CTAI", "NotAtStep", "Outcome", "StepView", "create", "decide", "launch_info", "open_step",
           "open_yearly_review"]

ENTITY = "ctai"


def _departement(session: Session, ctai: Ctai) -> str:
    return session.get(Collectivite, ctai.collectivite_id).departement_code


def _applicants(session: Session, ctai: Ctai) -> list[tuple[str, str]]:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return [(collectivite.email, collectivite.name)]


def _replace_ctair(session: Session, ctai: Ctai, transition, agent: Agent, answer: dict) -> None:
    """Signing a widening CTAI closes the CTAIR it replaces, in the same transaction."""
    if transition.step != "elargissement" or transition.decision != "sign":
        return
    ctair = ctair_of(session, ctai)
    if ctair is None:
        return
    before = ctair.status
    apply_decision(ctair, "replaced")
    session.add(ctair)
    record_decision(session, entity_type=ENTITY, entity_id=ctair.id, step="elargissement", from_status=before,
                    to_status=ctair.status, actor=Actor(agent.email, agent.id), decision="replaced",
                    comment=f"remplacé par {ctai.reference}")


CTAI = CaseKind(
    entity=ENTITY, model=Ctai, machine=CTAI_MACHINE, status_of_step=STATUS_OF_STEP, step_labels=STEP_LABELS,
    handlers=HANDLERS, four_eyes_steps=frozenset(FOUR_EYES_STEPS), departement=_departement, run_name=run_name,
    description=form_description, email_base=email_base, applicants=_applicants, expectations=STEP_EXPECTATIONS,
    after_decision=_replace_ctair, summary=summary,
)


def awaited_role(step: str) -> str:
    return CTAI.awaited_role(step)


def open_step(session: Session, *, ctai_id: int, step: str, flow_run_id: str, trigger: str | None,
              link: str | None) -> StepView:
    return step_engine.open_step(session, CTAI, entity_id=ctai_id, step=step, flow_run_id=flow_run_id,
                                 trigger=trigger, link=link)


def decide(session: Session, *, ctai_id: int, step: str, flow_run_id: str, attempt: int, answer: dict,
           link: str | None) -> Outcome:
    return step_engine.decide(session, CTAI, entity_id=ctai_id, step=step, flow_run_id=flow_run_id, attempt=attempt,
                              answer=answer, link=link)


def launch_info(session: Session, ctai_id: int, step: str) -> dict:
    return step_engine.launch_info(session, CTAI, ctai_id, step)


# --- Starting a contract ------------------------------------------------------------------------

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


def open_yearly_review(session: Session, ctai_id: int, comment: str | None = None) -> Ctai:
    """ACTIVE → YEARLY_REVIEW, recorded as a system decision; the bilan step then waits."""
    ctai = step_engine.lock(session, CTAI, ctai_id)
    before = ctai.status
    apply_decision(ctai, "open_review")
    session.add(ctai)
    record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step="bilan", from_status=before,
                    to_status=ctai.status, actor=SYSTEM, decision="open_review", comment=comment)
    return ctai
