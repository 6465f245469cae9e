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
from models.state_machine import Transition
from services.ctai import forms, handlers, texts
from services.engine import steps as engine
from services.engine.audit import SYSTEM, Actor, record_decision
from services.engine.forms import ApprovalForm
from services.engine.kind import CollectiviteCase, NotAtStep, Outcome, Step, StepView

__all__ = ["CTAI", "NotAtStep", "Outcome", "StepView", "awaited_role", "create", "decide", "open_step",
           "open_yearly_review"]

ENTITY = "ctai"


def _step(name: str, form: type[ApprovalForm], handler, *, four_eyes: bool = False) -> Step:
    return Step(name=name, status=STATUS_OF_STEP[name], label=STEP_LABELS[name], form=form, handler=handler,
                four_eyes=four_eyes, expectation=STEP_EXPECTATIONS.get(name))


class CtaiCase(CollectiviteCase[Ctai]):
    """A contract, from the collectivité's letter to its yearly reviews."""

    entity = ENTITY
    model = Ctai
    machine = CTAI_MACHINE
    parameter = "ctai_id"
    steps = {s.name: s for s in [
        _step("engagement", forms.EngagementForm, handlers.engagement),
        _step("echange", forms.EchangeForm, handlers.echange),
        _step("diagnostic", forms.DiagnosticForm, handlers.diagnostic),
        _step("coordinateur", forms.CoordinateurForm, handlers.coordinateur),
        _step("proposition", forms.PropositionForm, handlers.proposition),
        _step("signature", forms.SignatureForm, handlers.signature, four_eyes=True),  # never the instructing agent
        _step("revue_diair", forms.RevueDiairForm, handlers.revue_diair),
        _step("bilan", forms.BilanForm, handlers.bilan),
        _step("elargissement", forms.ElargissementForm, handlers.elargissement, four_eyes=True),
    ]}

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.form_description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.contract_markdown)

    def after_decision(self, session: Session, case: Ctai, transition: Transition, agent: Agent,
                       form: ApprovalForm) -> None:
        """Signing a widening CTAI closes the CTAIR it replaces, in the same transaction."""
        if transition.step != "elargissement" or transition.decision != "sign":
            return
        ctair = handlers.ctair_of(session, case)
        if ctair is None:
            return
        before = ctair.status
        apply_decision(ctair, "replaced")
        session.add(ctair)
        record_decision(session, entity_type=ENTITY, entity_id=ctair.id, step="elargissement", from_status=before,
                        to_status=ctair.status, actor=Actor(agent.email, agent.id), decision="replaced",
                        comment=f"remplacé par {case.reference}")


CTAI = CtaiCase()


def awaited_role(step: str) -> str:
    return CTAI.awaited_role(step)


def open_step(session: Session, *, ctai_id: int, step: str, flow_run_id: str, trigger: str | None,
              link: str | None) -> StepView:
    return engine.open_step(session, CTAI, entity_id=ctai_id, step=step, flow_run_id=flow_run_id,
                            trigger=trigger, link=link)


def decide(session: Session, *, ctai_id: int, step: str, flow_run_id: str, attempt: int, answer: dict,
           link: str | None) -> Outcome:
    return engine.decide(session, CTAI, entity_id=ctai_id, step=step, flow_run_id=flow_run_id, attempt=attempt,
                         answer=answer, link=link)


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
        handlers.copy_from_ctair(session, ctair, ctai)
    record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step="creation", from_status=None,
                    to_status=ctai.status, actor=Actor(f"collectivité : {collectivite.name}"), decision="created",
                    comment=f"élargissement du CTAIR {ctair.reference}" if ctair else None)
    return ctai, True


def open_yearly_review(session: Session, ctai_id: int, comment: str | None = None) -> Ctai:
    """ACTIVE → YEARLY_REVIEW, recorded as a system decision; the bilan step then waits."""
    ctai = CTAI.lock(session, ctai_id)
    before = ctai.status
    apply_decision(ctai, "open_review")
    session.add(ctai)
    record_decision(session, entity_type=ENTITY, entity_id=ctai.id, step="bilan", from_status=before,
                    to_status=ctai.status, actor=SYSTEM, decision="open_review", comment=comment)
    return ctai
