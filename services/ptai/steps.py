"""What each PTAI step's decision changes in the request, and the applicant's answer to a
request for more information."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.actors import Collectivite, Porteur
from models.cerfa import check_submission, engagement_dict, parse_request_file
from models.errors import DomainError, RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.ptai import PtaiRequest, PtaiStatus, apply_decision, check_validated_amount
from models.reference import campaign_rules
from models.rules import legal_act_for, public_of
from models.types import paris_today
from services.engine.audit import Actor, record_decision
from services.engine.kind import Applied
from services.ptai.forms import InstructionForm, ValidationForm


def required(value, name: str, label: str):
    """A field the chosen decision needs, though the form leaves it optional."""
    if value in (None, "", []):
        raise RuleViolation([Violation("CHAMP_MANQUANT", name, f"{label} : ce champ est obligatoire pour cette décision")])
    return value


def instruction(session: Session, request: PtaiRequest, decision: str, form: InstructionForm) -> Applied:
    if decision == "favourable":
        proposed = euros_to_cents(required(form.amount_eur, "amount_eur", "Montant proposé (euros)"))
        raise_if_any(check_validated_amount(proposed, request.requested_cents))
        request.proposed_cents = proposed
        return Applied(amount_cents=proposed)
    if decision == "unfavourable":
        required(form.comment, "comment", "Motifs de l'avis défavorable")
    if decision == "rework":
        required(form.comment, "comment", "Compléments demandés")
        deadline = required(form.rework_deadline, "rework_deadline", "Date limite de réponse")
        if deadline <= paris_today():
            raise RuleViolation([Violation("DATE_LIMITE_PASSEE", "rework_deadline", "la date limite de réponse doit être future")])
        request.rework_deadline = deadline
        return Applied(deadline=deadline)
    return Applied()


def validation(session: Session, request: PtaiRequest, decision: str, form: ValidationForm) -> Applied:
    if decision == "reject":
        required(form.comment, "comment", "Motifs du rejet")
        return Applied()
    validated = euros_to_cents(form.amount_eur) if form.amount_eur is not None else request.proposed_cents
    raise_if_any(check_validated_amount(validated, request.requested_cents))
    request.proposed_cents = validated
    return Applied(amount_cents=validated)


class NotAwaitingApplicant(DomainError):
    code = "COMPLEMENT_NON_ATTENDU"


def complete(session: Session, request: PtaiRequest, text: str, today: date | None = None) -> tuple[PtaiRequest, int]:
    """The applicant's answer to a rework request (the locked ``request``): the whole file
    again, checked again."""
    today = today or paris_today()
    if request.status != PtaiStatus.AWAITING_APPLICANT:
        raise NotAwaitingApplicant(f"[{NotAwaitingApplicant.code}] la demande {request.reference} n'attend pas de complément "
                                   f"(statut : {request.status})")
    if request.rework_deadline is not None and today > request.rework_deadline:
        raise RuleViolation([Violation("DELAI_DEPASSE", "rework_deadline", f"la date limite de réponse ({request.rework_deadline}) est dépassée")])
    f = parse_request_file(text)
    collectivite = session.get(Collectivite, request.collectivite_id)
    porteur = session.get(Porteur, request.porteur_id) if request.porteur_id else None
    violations = check_submission(f, collectivite_found=f.demandeur.siren == collectivite.siren, registered_porteur=porteur,
                                  rules=campaign_rules(f.campagne))
    raise_if_any(violations)
    rules = campaign_rules(f.campagne)
    request.title, request.objectives = f.projet.intitule, f.projet.objectifs
    request.domains = [str(d) for d in f.projet.domaines]
    request.public_categories = list(f.projet.public.categories)
    request.public = public_of(f.projet.public.categories, rules)
    request.engagement = [engagement_dict(e) for e in f.engagement_collectivite]
    request.total_cost_cents = euros_to_cents(f.budget.cout_total_eur)
    request.requested_cents = euros_to_cents(f.budget.montant_demande_eur)
    request.legal_act = legal_act_for(request.requested_cents, rules)
    request.cir_complementarity = f.projet.complementarite_cir or ""
    request.submitted_payload = f.model_dump(mode="json")
    before = request.status
    apply_decision(request, "completed")
    request.rework_deadline = None
    session.add(request)
    recorded = record_decision(session, entity_type="ptai", entity_id=request.id, step="complement", from_status=before,
                               to_status=request.status, actor=Actor(f"demandeur : {collectivite.name}"),
                               decision="completed", amount_cents=request.requested_cents)
    return request, recorded.id
