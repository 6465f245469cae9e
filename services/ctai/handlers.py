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
    Action, Ctai, CtaiFunding, CtaiKind, CtaiStatus, DiairReview, Diagnostic, check_contract, check_diair_review,
    check_funding,
)
from models.errors import RuleViolation, Violation
from models.money import euros_to_cents
from models.reference import Public, campaign_rules
from models.rules import within_ceiling
from services.ctai.forms import (
    BilanForm, CoordinateurForm, DiagnosticForm, EchangeForm, ElargissementForm, EngagementForm, PropositionForm,
    RevueDiairForm, SignatureForm,
)
from services.ctai.records import columns_of, contract_records
from models.types import paris_today
from services.engine.forms import dated, required
from services.engine.kind import Applied


def contract_checks(session: Session, ctai: Ctai) -> list[Violation]:
    funding, actions, diagnostic = contract_records(session, ctai)
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return check_contract(collectivite_type=collectivite.type, scope=Public(ctai.public_scope), funding=funding,
                          actions=actions, diagnostic=diagnostic, rules=campaign_rules(ctai.first_year))


def _total(session: Session, ctai: Ctai) -> int:
    funding, _, _ = contract_records(session, ctai)
    return sum(f.socle_cents + f.complementary_cents for f in funding)


def engagement(session: Session, ctai: Ctai, decision: str, form: EngagementForm) -> Applied:
    ctai.letter_received_on = dated(required(form.letter_date, "letter_date", "Date de la lettre"), "letter_date",
                                    "Date de la lettre", latest=paris_today())
    ctai.letter_signatory = required(form.signatory, "signatory", "Signataire de la lettre")
    return Applied()


def echange(session: Session, ctai: Ctai, decision: str, form: EchangeForm) -> Applied:
    dated(required(form.meeting_date, "meeting_date", "Date du temps d'échange"), "meeting_date",
          "Date du temps d'échange", latest=paris_today())
    return Applied()


def diagnostic(session: Session, ctai: Ctai, decision: str, form: DiagnosticForm) -> Applied:
    row = session.exec(select(Diagnostic).where(Diagnostic.ctai_id == ctai.id)).first()
    if form.bpi_count is not None:
        row = row or Diagnostic(ctai_id=ctai.id, reference_year=ctai.first_year - 1, bpi_count=0)
        row.bpi_count = form.bpi_count
        if form.primo_arrivants_count is not None:
            row.primo_arrivants_count = form.primo_arrivants_count
        if form.needs_summary:
            row.needs_by_domain = {**row.needs_by_domain, "synthese": form.needs_summary}
    if decision == "approve":
        if row is None:
            raise RuleViolation([Violation("R6_DIAGNOSTIC_OBLIGATOIRE", "bpi_count", "indiquez au moins le nombre de BPI visés pour valider le diagnostic")])
        row.validated = True
    if row is not None:
        session.add(row)
    return Applied()


def coordinateur(session: Session, ctai: Ctai, decision: str, form: CoordinateurForm) -> Applied:
    if decision == "record":
        ctai.coordinator_name = required(form.coordinator_name, "coordinator_name", "Nom du coordinateur")
        ctai.coordinator_email = form.coordinator_email or None
    return Applied()


def proposition(session: Session, ctai: Ctai, decision: str, form: PropositionForm) -> Applied:
    if decision == "approve":
        return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))
    return Applied()


def signature(session: Session, ctai: Ctai, decision: str, form: SignatureForm) -> Applied:
    if decision != "sign":
        return Applied()
    ctai.prefet_signed_on = dated(required(form.signature_date, "signature_date", "Date de signature"), "signature_date",
                                  "Date de signature", latest=paris_today())
    ctai.elu_signed_on = dated(form.elu_signature_date, "elu_signature_date", "Date de signature de l'élu",
                               latest=paris_today()) or ctai.prefet_signed_on
    return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))


def revue_diair(session: Session, ctai: Ctai, decision: str, form: RevueDiairForm) -> Applied:
    _, actions, _ = contract_records(session, ctai)
    to_rework = set(form.rework_action_ids)
    unknown = to_rework - {a.id for a in actions}
    if unknown:
        raise RuleViolation([Violation("ACTION_INCONNUE", "rework_action_ids", f"action(s) {sorted(unknown)} absente(s) de ce contrat")])
    if decision == "rework" and not to_rework:
        raise RuleViolation([Violation("CHAMP_MANQUANT", "rework_action_ids", "indiquez les actions à retravailler")])
    for a in actions:
        a.diair_review = DiairReview.REWORK if a.id in to_rework else (DiairReview.COMPLIANT if decision == "approve" else a.diair_review)
        a.diair_comment = form.comment if a.id in to_rework else a.diair_comment
        session.add(a)
    return Applied(checks=check_diair_review(actions) if decision == "approve" else None)


def bilan(session: Session, ctai: Ctai, decision: str, form: BilanForm) -> Applied:
    funding, actions, _ = contract_records(session, ctai)
    if decision == "end" or not funding:
        return Applied()
    current = funding[-1]
    year = current.year + 1
    if decision == "amend":
        socle = euros_to_cents(required(form.amount_eur, "amount_eur", "Socle de l'année suivante (euros)"))
        complementary = euros_to_cents(form.complementary_eur or 0)
    else:  # prolong: same credits and actions next year
        socle, complementary = current.socle_cents, current.complementary_cents
    row = CtaiFunding(ctai_id=ctai.id, year=year, socle_cents=socle, complementary_cents=complementary)
    rules = campaign_rules(ctai.first_year)
    violations = (check_funding([row], Public(ctai.public_scope), rules)
                  + within_ceiling("amount_eur", socle, rules.plafond_action_cents, "le socle")
                  + within_ceiling("complementary_eur", complementary, rules.plafond_action_cents,
                                   "les crédits complémentaires"))
    if violations:
        raise RuleViolation(violations)
    session.add(row)
    if decision == "prolong":
        for a in actions:
            if a.year == current.year:
                session.add(Action(**{**columns_of(a, exclude={"id"}), "year": year}))
    ctai.last_year = max(ctai.last_year, year)
    return Applied(amount_cents=socle + complementary)


def elargissement(session: Session, ctai: Ctai, decision: str, form: ElargissementForm) -> Applied:
    if decision != "sign":
        return Applied()
    ctai.prefet_signed_on = dated(required(form.signature_date, "signature_date", "Date de signature"), "signature_date",
                                  "Date de signature", latest=paris_today())
    ctai.elu_signed_on = ctai.prefet_signed_on
    return Applied(checks=contract_checks(session, ctai), amount_cents=_total(session, ctai))


def copy_from_ctair(session: Session, ctair: Ctai, ctai: Ctai) -> None:
    """A widening CTAI starts from the CTAIR's remaining funding and actions (R2: widened)."""
    funding, actions, diagnostic = contract_records(session, ctair)
    for f in funding:
        if f.year >= ctai.first_year:
            session.add(CtaiFunding(ctai_id=ctai.id, year=f.year, socle_cents=f.socle_cents, complementary_cents=f.complementary_cents))
    for a in actions:
        if a.year >= ctai.first_year:
            session.add(Action(**{**columns_of(a, exclude={"id", "ctai_id", "diair_review", "diair_comment"}), "ctai_id": ctai.id}))
    if diagnostic is not None:
        session.add(Diagnostic(**{**columns_of(diagnostic, exclude={"id", "ctai_id"}), "ctai_id": ctai.id}))
    ctai.kind = CtaiKind.CTAI


def ctair_of(session: Session, ctai: Ctai) -> Ctai | None:
    if ctai.replaces_ctair_id is None:
        return None
    ctair = session.get(Ctai, ctai.replaces_ctair_id)
    return ctair if ctair is not None and ctair.status == CtaiStatus.ACTIVE else None
