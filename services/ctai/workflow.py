"""The CTAI contracting steps: the contract as a kind of case for the step engine, and the
transactions that create a contract or open its yearly review."""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import Agent, Collectivite
from models.ctai import (
    Ctai,
    CtaiEvent,
    CtaiFunding,
    CtaiKind,
    CtaiReview,
    CtaiStatus,
    ElargissementDecision,
    ReviewProposal,
    ReviewSignatureDecision,
    check_review_year,
    check_signatory,
    ctai_reference,
    default_review_year,
    duration_years,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.reference import Public
from models.state_machine import Transition
from models.types import utcnow
from services.ctai import handlers, steps, texts
from services.ctai.records import review_of, reviewed_years, rules_of
from services.ctai.steps import CTAI_MACHINE, apply_decision
from services.engine.audit import SYSTEM, Actor, record_decision
from services.engine.forms import ApprovalForm
from services.engine.kind import CollectiviteCase
from services.engine.money import amounts_changed

__all__ = ["CTAI", "create", "open_yearly_review"]

ENTITY = steps.CASE


class CtaiCase(CollectiviteCase[Ctai]):
    """A contract, from the collectivité's letter to its yearly reviews."""

    entity = ENTITY
    model = Ctai
    machine = CTAI_MACHINE
    parameter = "ctai_id"
    steps = steps.STEPS_BY_NAME
    history_labels = texts.STEP_LABELS

    run_name = staticmethod(texts.run_name)
    description = staticmethod(texts.form_description)
    email_base = staticmethod(texts.email_base)
    summary = staticmethod(texts.summary)
    dashboard = staticmethod(texts.contract_markdown)

    def after_decision(
        self, session: Session, case: Ctai, transition: Transition, agent: Agent, form: ApprovalForm
    ) -> None:
        """Who prepared and who signed a bilan; a renewal's new contract; signing a widening CTAI
        closes the CTAIR it replaces. In the decision's transaction (the legal acts of the years a
        decision funds are drawn up by the engine, from the declaration's ``grants``)."""
        if transition.step == steps.YEARLY_REVIEW.name:
            review = _latest_review(session, case.id)
            if review is not None:
                review.prepared_by_agent_id = agent.id
                session.add(review)
            return
        if transition.step == steps.REVIEW_SIGNATURE.name:
            review = _latest_review(session, case.id)
            if review is not None and transition.decision != ReviewSignatureDecision.REWORK:
                review.signed_by_agent_id = agent.id
                session.add(review)
                if transition.decision == ReviewSignatureDecision.SIGN_END and review.proposal == ReviewProposal.RENEW:
                    renew(session, case, agent)
            return
        if transition.step != steps.ELARGISSEMENT.name or transition.decision != ElargissementDecision.SIGN:
            return
        ctair = handlers.ctair_of(session, case)
        if ctair is None:
            return
        before = ctair.status
        apply_decision(ctair, CtaiEvent.REPLACED)
        session.add(ctair)
        record_decision(
            session,
            entity_type=ENTITY,
            entity_id=ctair.id,
            step=steps.ELARGISSEMENT.name,
            from_status=before,
            to_status=ctair.status,
            actor=Actor(agent.email, agent.id),
            decision=CtaiEvent.REPLACED,
            comment=f"remplacé par {case.reference}",
        )
        amounts_changed(session, ctai_ids=[case.id, ctair.id])  # R13: the CTAIR's years now belong to the CTAI


def _latest_review(session: Session, ctai_id: int) -> CtaiReview | None:
    return session.exec(
        select(CtaiReview).where(CtaiReview.ctai_id == ctai_id).order_by(CtaiReview.year.desc())
    ).first()


CTAI = CtaiCase()


# --- Starting a contract ------------------------------------------------------------------------


def create(
    session: Session,
    *,
    collectivite_id: int,
    first_year: int,
    years: int | None = None,
    from_ctair_id: int | None = None,
    renews: Ctai | None = None,
) -> tuple[Ctai, bool]:
    """A new contract at its first step, or the one already under way for this collectivité
    (so that running ``ctai start`` again after a crash resumes instead of duplicating). Its
    term is ``years`` long, by default the campaign's ``ctai_duree_annees``."""
    collectivite = session.get(Collectivite, collectivite_id)
    if collectivite is None:
        raise RuleViolation(
            [Violation("COLLECTIVITE_INCONNUE", "collectivite", f"aucune collectivité n° {collectivite_id}")]
        )
    ongoing = session.exec(
        select(Ctai).where(
            Ctai.collectivite_id == collectivite_id,
            Ctai.kind == CtaiKind.CTAI,
            Ctai.status.in_([step.status for step in steps.STEPS] + [CtaiStatus.DIAIR_REWORK]),
        )
    ).first()
    if ongoing is not None:
        return ongoing, False
    rules = rules_of(first_year)
    years = years or duration_years(rules)
    violations = check_signatory(collectivite.type, rules)
    ctair = None
    if from_ctair_id is not None:
        ctair = session.get(Ctai, from_ctair_id)
        if (
            ctair is None
            or ctair.kind != CtaiKind.CTAIR
            or ctair.collectivite_id != collectivite_id
            or ctair.status != CtaiStatus.ACTIVE
        ):
            violations.append(
                Violation(
                    "CTAIR_INVALIDE",
                    "from_ctair",
                    f"le n° {from_ctair_id} n'est pas un CTAIR en cours de cette collectivité",
                )
            )
    raise_if_any(violations)
    ctai = Ctai(
        collectivite_id=collectivite_id,
        first_year=first_year,
        last_year=first_year + years - 1,
        status=CtaiStatus.WIDENING if ctair else CtaiStatus.AWAITING_LETTER,
        public_scope=Public.PRIMO_ARRIVANTS if ctair else Public.BPI,
        replaces_ctair_id=ctair.id if ctair else None,
        renews_ctai_id=renews.id if renews else None,
    )
    session.add(ctai)
    session.flush()
    ctai.reference = ctai_reference(collectivite.departement_code, first_year, ctai.id)
    if ctair is not None:
        handlers.copy_from_ctair(session, ctair, ctai)
    comment = (
        f"élargissement du CTAIR {ctair.reference}"
        if ctair
        else f"renouvellement du contrat {renews.reference}"
        if renews
        else None
    )
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=ctai.id,
        step="creation",
        from_status=None,
        to_status=ctai.status,
        actor=Actor(f"collectivité : {collectivite.name}"),
        decision=CtaiEvent.CREATED,
        comment=comment,
    )
    return ctai, True


def renew(session: Session, ended: Ctai, agent: Agent) -> Ctai:
    """The contract that follows ``ended`` for the next term, at its lettre d'engagement; its
    engagement step is started by the signature's flow (``flows.ctai``)."""
    ctai, _ = create(session, collectivite_id=ended.collectivite_id, first_year=ended.last_year + 1, renews=ended)
    return ctai


# --- The yearly review --------------------------------------------------------------------------


def review_year_for(session: Session, ctai: Ctai) -> int | None:
    """The year ``ctai review`` opens by default: the earliest funded year, within the term, not yet reviewed."""
    funded = list(session.exec(select(CtaiFunding.year).where(CtaiFunding.ctai_id == ctai.id)))
    return default_review_year(
        funded=funded, first_year=ctai.first_year, last_year=ctai.last_year, reviewed=reviewed_years(session, ctai.id)
    )


def open_yearly_review(session: Session, ctai_id: int, year: int | None = None, comment: str | None = None) -> Ctai:
    """ACTIVE → YEARLY_REVIEW for the bilan of ``year`` (by default ``review_year_for``), recorded as
    a system decision; the bilan step then waits."""
    ctai = CTAI.lock(session, ctai_id)
    if year is None:
        year = review_year_for(session, ctai)
        if year is None:
            raise RuleViolation(
                [
                    Violation(
                        "BILAN_AUCUNE_ANNEE",
                        "annee",
                        f"le contrat {ctai.reference} n'a aucune année "
                        f"financée de {ctai.first_year} à {ctai.last_year} dont le bilan reste à faire",
                    )
                ]
            )
    raise_if_any(
        check_review_year(
            year=year, first_year=ctai.first_year, last_year=ctai.last_year, reviewed=reviewed_years(session, ctai.id)
        )
    )
    before = ctai.status
    apply_decision(ctai, CtaiEvent.OPEN_REVIEW)
    ctai.review_year = year
    session.add(ctai)
    if review_of(session, ctai.id, year) is None:
        session.add(CtaiReview(ctai_id=ctai.id, year=year, opened_at=utcnow()))
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=ctai.id,
        step=steps.YEARLY_REVIEW.name,
        from_status=before,
        to_status=ctai.status,
        actor=SYSTEM,
        decision=CtaiEvent.OPEN_REVIEW,
        comment=comment or f"bilan {year}",
    )
    return ctai
