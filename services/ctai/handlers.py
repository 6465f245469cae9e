"""What each CTAI step's decision changes in the contract, and which rules it must pass.

A handler receives the locked contract, the decision's code and the agent's typed form; it
changes the contract's records and returns the rule checks (for guarded transitions) and the
amount to record. The engine then moves the contract through its state machine; it runs the
handler inside a savepoint, so a refusal leaves everything as it was.
"""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import Collectivite
from models.ctai import (
    Action,
    CoordinateurDecision,
    Ctai,
    CtaiFunding,
    CtaiKind,
    CtaiReview,
    CtaiStatus,
    Diagnostic,
    DiagnosticDecision,
    DiairReview,
    EchangeDecision,
    ElargissementDecision,
    EngagementDecision,
    PropositionDecision,
    ReviewProposal,
    ReviewSignatureDecision,
    RevueDiairDecision,
    SignatureDecision,
    check_action_reviews,
    check_actions,
    check_contract,
    check_diair_review,
    check_funding,
    check_review_proposal,
    check_review_signature,
    check_signatory,
    check_signatures,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.french import accorde
from models.money import euros_to_cents
from models.reference import Public
from models.rules import within_ceiling
from models.types import paris_today, utcnow
from services.ctai.forms import (
    CoordinateurForm,
    DiagnosticForm,
    EchangeForm,
    ElargissementForm,
    EngagementForm,
    PropositionForm,
    ReviewForm,
    ReviewSignatureForm,
    RevueDiairForm,
    SignatureForm,
)
from services.ctai.records import columns_of, contract_records, porteur_facts, review_of, rules_of
from services.ctai.review import store_lines, transmitted_lines
from services.engine.forms import dated, required
from services.engine.kind import Applied
from services.engine.money import amounts_changed


def contract_checks(session: Session, ctai: Ctai) -> list[Violation]:
    """Every rule of the contract: R1 by its first year's campaign, its funding and actions by
    each funded year's own campaign, R15 by its porteurs as registered."""
    funding, actions, diagnostic = contract_records(session, ctai)
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return check_contract(
        collectivite_type=collectivite.type,
        scope=Public(ctai.public_scope),
        funding=funding,
        actions=actions,
        diagnostic=diagnostic,
        rules=rules_of(ctai.first_year),
        rules_of=rules_of,
        porteurs=porteur_facts(session, actions),
    )


def _total(session: Session, ctai: Ctai) -> int:
    funding, _, _ = contract_records(session, ctai)
    return sum(f.socle_cents + f.complementary_cents for f in funding)


def engagement(session: Session, ctai: Ctai, decision: EngagementDecision, form: EngagementForm) -> Applied:
    ctai.letter_received_on = dated(
        required(form.letter_date, "letter_date", "Date de la lettre"),
        "letter_date",
        "Date de la lettre",
        latest=paris_today(),
    )
    ctai.letter_signatory = required(form.signatory, "signatory", "Signataire de la lettre")
    return Applied()


def echange(session: Session, ctai: Ctai, decision: EchangeDecision, form: EchangeForm) -> Applied:
    dated(
        required(form.meeting_date, "meeting_date", "Date du temps d'échange"),
        "meeting_date",
        "Date du temps d'échange",
        latest=paris_today(),
    )
    return Applied()


def diagnostic(session: Session, ctai: Ctai, decision: DiagnosticDecision, form: DiagnosticForm) -> Applied:
    row = session.exec(select(Diagnostic).where(Diagnostic.ctai_id == ctai.id)).first()
    if form.bpi_count is not None:
        row = row or Diagnostic(ctai_id=ctai.id, reference_year=ctai.first_year - 1, bpi_count=0)
        row.bpi_count = form.bpi_count
        if form.primo_arrivants_count is not None:
            row.primo_arrivants_count = form.primo_arrivants_count
        if form.needs_summary:
            row.needs_by_domain = {**row.needs_by_domain, "synthese": form.needs_summary}
    if decision == DiagnosticDecision.APPROVE:
        if row is None:
            raise RuleViolation(
                [
                    Violation(
                        "R6_DIAGNOSTIC_OBLIGATOIRE",
                        "bpi_count",
                        "indiquez au moins le nombre de BPI visés pour valider le diagnostic",
                    )
                ]
            )
        row.validated = True
    if row is not None:
        session.add(row)
    return Applied()


def coordinateur(session: Session, ctai: Ctai, decision: CoordinateurDecision, form: CoordinateurForm) -> Applied:
    if decision == CoordinateurDecision.RECORD:
        ctai.coordinator_name = required(form.coordinator_name, "coordinator_name", "Nom du coordinateur")
        ctai.coordinator_email = form.coordinator_email or None
    return Applied()


def proposition(session: Session, ctai: Ctai, decision: PropositionDecision, form: PropositionForm) -> Applied:
    if decision == PropositionDecision.APPROVE:
        return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))
    return Applied()


def _signed(ctai: Ctai, form: SignatureForm | ElargissementForm) -> None:
    """The préfet's and the élu's own dates (both required), the Diair's optional co-signature."""
    today = paris_today()
    name = (form.diair_cosignatory_name or "").strip() or None
    raise_if_any(
        check_signatures(
            prefet=form.signature_date,
            elu=form.elu_signature_date,
            cosignatory=name,
            cosigned_on=form.diair_cosignature_date,
        )
    )
    ctai.prefet_signed_on = dated(
        form.signature_date, "signature_date", "Date de signature par le préfet", latest=today
    )
    ctai.elu_signed_on = dated(
        form.elu_signature_date, "elu_signature_date", "Date de signature par l'élu", latest=today
    )
    ctai.diair_cosignatory_name = name
    ctai.diair_cosigned_on = dated(
        form.diair_cosignature_date,
        "diair_cosignature_date",
        "Date de co-signature du délégué interministériel",
        latest=today,
    )


def signature(session: Session, ctai: Ctai, decision: SignatureDecision, form: SignatureForm) -> Applied:
    if decision != SignatureDecision.SIGN:
        return Applied()
    _signed(ctai, form)
    return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))


def revue_diair(session: Session, ctai: Ctai, decision: RevueDiairDecision, form: RevueDiairForm) -> Applied:
    """Approve: every action compliant (R12). Rework: the flagged actions go back to the
    collectivité (``territoires ctai rework``) with the Diair's comment; the others are compliant."""
    _, actions, _ = contract_records(session, ctai)
    to_rework = set(form.rework_action_ids)
    unknown = to_rework - {a.id for a in actions}
    if unknown:
        raise RuleViolation(
            [
                Violation(
                    "ACTION_INCONNUE",
                    "rework_action_ids",
                    f"{accorde(len(unknown), 'action', 'actions')} n° {', '.join(map(str, sorted(unknown)))} "
                    f"{accorde(len(unknown), 'absente', 'absentes')} de ce contrat",
                )
            ]
        )
    if decision == RevueDiairDecision.REWORK:
        required(form.rework_action_ids, "rework_action_ids", "N° des actions à retravailler")
        required(form.comment, "comment", "Motif (ce qui est à retravailler)")
    elif to_rework:
        raise RuleViolation(
            [
                Violation(
                    "ACTIONS_A_RETRAVAILLER",
                    "rework_action_ids",
                    "des actions sont signalées à retravailler : choisissez "
                    f"« {form.declaration.wording(RevueDiairDecision.REWORK)} », ou videz la liste",
                )
            ]
        )
    for a in actions:
        if a.id in to_rework:
            a.diair_review, a.diair_comment = DiairReview.REWORK, form.comment
        else:
            a.diair_review = DiairReview.COMPLIANT
        session.add(a)
    return Applied(checks=check_diair_review(actions) if decision == RevueDiairDecision.APPROVE else None)


# --- Yearly review ----------------------------------------------------------------------------


def _year_under_review(ctai: Ctai) -> int:
    if ctai.review_year is None:
        raise RuleViolation(
            [
                Violation(
                    "BILAN_NON_OUVERT",
                    "annee",
                    "aucune année n'est en cours de bilan pour ce contrat (territoires ctai review)",
                )
            ]
        )
    return ctai.review_year


def _next_year_plan(
    session: Session, ctai: Ctai, year: int, socle: int, complementary: int
) -> tuple[CtaiFunding, list[Action], list[Violation]]:
    """Year Y+1 as the avenant would make it: its funding, its actions (those already planned, else
    year Y's, carried on), and the rules of Y+1 they break."""
    funding, actions, _ = contract_records(session, ctai)
    target = year + 1
    row = CtaiFunding(ctai_id=ctai.id, year=target, socle_cents=socle, complementary_cents=complementary)
    planned = [a for a in actions if a.year == target]
    if not planned:
        planned = [
            Action(**{**columns_of(a, exclude={"id", "legal_act"}), "year": target}) for a in actions if a.year == year
        ]
    scope = Public(ctai.public_scope)
    rules = rules_of(target)
    violations = (
        check_funding([row], scope, rules_of)
        + check_actions(planned, scope, [row], rules_of)
        + within_ceiling("amount_eur", socle, rules.plafond_action_cents, "le socle")
        + within_ceiling("complementary_eur", complementary, rules.plafond_action_cents, "les crédits complémentaires")
    )
    return row, planned, violations


def _fund_next_year(session: Session, ctai: Ctai, year: int, socle: int, complementary: int) -> list[Violation]:
    row, planned, violations = _next_year_plan(session, ctai, year, socle, complementary)
    existing = session.exec(
        select(CtaiFunding).where(CtaiFunding.ctai_id == ctai.id, CtaiFunding.year == row.year)
    ).first()
    if existing is not None:  # an avenant changes the credits of a year already funded
        existing.socle_cents, existing.complementary_cents = socle, complementary
        row = existing
    session.add(row)
    for a in planned:
        if a.id is None:
            session.add(a)
    session.flush()
    amounts_changed(session, ctai_ids=[ctai.id])
    return violations


def yearly_review(session: Session, ctai: Ctai, decision: ReviewProposal, form: ReviewForm) -> Applied:
    """The instructeur records the bilan of year Y, action by action, and proposes: prolong (decided
    here: year Y+1 funded like Y), an avenant, the end or the renewal (signed by the préfet)."""
    year = _year_under_review(ctai)
    funding, actions, _ = contract_records(session, ctai)
    lines = [(b.action_id, b.realisee, b.public_atteint, euros_to_cents(b.consomme_eur)) for b in form.bilan_actions]
    lines = lines or transmitted_lines(session, ctai.id, year)  # the form left empty: the bilan the collectivité sent
    violations = check_action_reviews(lines, {a.id: a for a in actions}, year)
    violations += check_review_proposal(decision, year=year, last_year=ctai.last_year)
    socle = complementary = None
    if decision == ReviewProposal.AMEND and not violations:
        socle = euros_to_cents(required(form.amount_eur, "amount_eur", "Avenant : socle de l'année suivante (euros)"))
        complementary = euros_to_cents(form.complementary_eur or 0)
        violations += _next_year_plan(session, ctai, year, socle, complementary)[2]
    raise_if_any(violations)
    review = review_of(session, ctai.id, year) or CtaiReview(ctai_id=ctai.id, year=year)
    review.proposal, review.socle_cents, review.complementary_cents = decision, socle, complementary
    session.add(review)
    session.flush()
    store_lines(session, review, lines)
    amount = None if socle is None else socle + complementary
    if decision == ReviewProposal.PROLONG:
        current = next((f for f in funding if f.year == year), None)
        if current is not None and not any(f.year == year + 1 for f in funding):
            raise_if_any(_fund_next_year(session, ctai, year, current.socle_cents, current.complementary_cents))
            amount = current.socle_cents + current.complementary_cents
        review.decided_at = utcnow()
        ctai.review_year = None
    return Applied(amount_cents=amount)


def review_signature(
    session: Session, ctai: Ctai, decision: ReviewSignatureDecision, form: ReviewSignatureForm
) -> Applied:
    """The préfet signs what the instructeur proposed (an avenant funds the year after the one
    reviewed; an end or a renewal ends the contract), or sends the bilan back."""
    year = _year_under_review(ctai)
    review = review_of(session, ctai.id, year)
    if decision == ReviewSignatureDecision.REWORK:
        return Applied()
    wordings = {d.code: d.wording for d in form.declaration.decisions}
    raise_if_any(check_review_signature(decision, review.proposal if review else None, wordings))
    dated(
        required(form.signature_date, "signature_date", "Date de signature par le préfet"),
        "signature_date",
        "Date de signature par le préfet",
        latest=paris_today(),
    )
    checks: list[Violation] | None = None
    amount = None
    if decision == ReviewSignatureDecision.SIGN_END and review.proposal == ReviewProposal.RENEW:
        # The next contract is created with the decision: its signatory must be eligible for its
        # first campaign, checked here so that a refusal is an answer, not a failed run.
        collectivite = session.get(Collectivite, ctai.collectivite_id)
        raise_if_any(check_signatory(collectivite.type, rules_of(ctai.last_year + 1)))
    if decision == ReviewSignatureDecision.SIGN_AMENDMENT:
        checks = _fund_next_year(session, ctai, year, review.socle_cents, review.complementary_cents or 0)
        amount = review.socle_cents + (review.complementary_cents or 0)
    review.decided_at = utcnow()
    session.add(review)
    ctai.review_year = None
    return Applied(checks=checks, amount_cents=amount)


def elargissement(session: Session, ctai: Ctai, decision: ElargissementDecision, form: ElargissementForm) -> Applied:
    if decision != ElargissementDecision.SIGN:
        return Applied()
    _signed(ctai, form)
    return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))


def copy_from_ctair(session: Session, ctair: Ctai, ctai: Ctai) -> None:
    """A widening CTAI starts from the CTAIR's remaining funding and actions (R2: widened)."""
    funding, actions, diagnostic = contract_records(session, ctair)
    for f in funding:
        if f.year >= ctai.first_year:
            session.add(
                CtaiFunding(
                    ctai_id=ctai.id, year=f.year, socle_cents=f.socle_cents, complementary_cents=f.complementary_cents
                )
            )
    for a in actions:
        if a.year >= ctai.first_year:
            session.add(
                Action(
                    **{
                        **columns_of(a, exclude={"id", "ctai_id", "diair_review", "diair_comment", "legal_act"}),
                        "ctai_id": ctai.id,
                    }
                )
            )
    if diagnostic is not None:
        session.add(Diagnostic(**{**columns_of(diagnostic, exclude={"id", "ctai_id"}), "ctai_id": ctai.id}))
    ctai.kind = CtaiKind.CTAI
    session.flush()
    amounts_changed(session, ctai_ids=[ctai.id])


def ctair_of(session: Session, ctai: Ctai) -> Ctai | None:
    if ctai.replaces_ctair_id is None:
        return None
    ctair = session.get(Ctai, ctai.replaces_ctair_id)
    return ctair if ctair is not None and ctair.status == CtaiStatus.ACTIVE else None
