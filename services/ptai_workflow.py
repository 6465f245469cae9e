"""The PTAI instruction chain: local instruction and the préfet's validation as approval steps,
and the applicant's answer to a request for more information."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.actors import Collectivite, Porteur
from models.cerfa import check_submission, engagement_dict, parse_request_file
from models.errors import DomainError, RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.ptai import PTAI_MACHINE, PtaiRequest, PtaiStatus, apply_decision, check_validated_amount
from models.reference import campaign_rules
from models.rules import legal_act_for, public_of
from models.types import paris_today
from services import step_engine
from services.audit import Actor, record_decision
from services.ptai_text import PTAI_STEP_LABELS, description, email_base, run_name, summary
from services.step_engine import Applied, CaseKind

ENTITY = "ptai"
STATUS_OF_STEP = {"instruction": PtaiStatus.SUBMITTED, "validation": PtaiStatus.PREFET_VALIDATION}


def _require(answer: dict, name: str, label: str):
    value = answer.get(name)
    if value in (None, "", []):
        raise RuleViolation([Violation("CHAMP_MANQUANT", name, f"{label} : ce champ est obligatoire pour cette décision")])
    return value


def instruction(session: Session, request: PtaiRequest, decision: str, answer: dict) -> Applied:
    if decision == "favourable":
        proposed = euros_to_cents(_require(answer, "amount_eur", "Montant proposé (euros)"))
        raise_if_any(check_validated_amount(proposed, request.requested_cents))
        request.proposed_cents = proposed
        return Applied(amount_cents=proposed)
    if decision == "unfavourable":
        _require(answer, "comment", "Motifs de l'avis défavorable")
    if decision == "rework":
        _require(answer, "comment", "Compléments demandés")
        deadline = date.fromisoformat(str(_require(answer, "rework_deadline", "Date limite de réponse")))
        if deadline <= paris_today():
            raise RuleViolation([Violation("DATE_LIMITE_PASSEE", "rework_deadline", "la date limite de réponse doit être future")])
        request.rework_deadline = deadline
    return Applied()


def validation(session: Session, request: PtaiRequest, decision: str, answer: dict) -> Applied:
    if decision == "reject":
        _require(answer, "comment", "Motifs du rejet")
        return Applied()
    amount = answer.get("amount_eur")
    validated = euros_to_cents(amount) if amount not in (None, "") else request.proposed_cents
    raise_if_any(check_validated_amount(validated, request.requested_cents))
    request.proposed_cents = validated
    return Applied(amount_cents=validated)


def _departement(session: Session, request: PtaiRequest) -> str:
    return session.get(Collectivite, request.collectivite_id).departement_code


def applicants(session: Session, request: PtaiRequest) -> list[tuple[str, str]]:
    collectivite = session.get(Collectivite, request.collectivite_id)
    out = [(collectivite.email, collectivite.name)]
    if request.porteur_id:
        porteur = session.get(Porteur, request.porteur_id)
        out.append((porteur.email, porteur.name))
    return out


PTAI = CaseKind(
    entity=ENTITY, model=PtaiRequest, machine=PTAI_MACHINE, status_of_step=STATUS_OF_STEP, step_labels=PTAI_STEP_LABELS,
    handlers={"instruction": instruction, "validation": validation}, four_eyes_steps=frozenset({"validation"}),
    departement=_departement, run_name=run_name, description=description, email_base=email_base,
    applicants=applicants, summary=summary,
    expectations={"instruction": None, "validation": None,
                  "instruction:again": "Vos compléments ont bien été reçus : l'instruction de votre demande reprend. "
                                       "Aucune action n'est attendue de votre part.",
                  "instruction:rework": "Transmettre les compléments demandés avant la date limite (territoires ptai complete)."},
)


class NotAwaitingApplicant(DomainError):
    code = "COMPLEMENT_NON_ATTENDU"


def complete(session: Session, request_id: int, text: str, today: date | None = None) -> tuple[PtaiRequest, int]:
    """The applicant's answer to a rework request: the whole file again, checked again."""
    request = step_engine.lock(session, PTAI, request_id)
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
    recorded = record_decision(session, entity_type=ENTITY, entity_id=request.id, step="complement", from_status=before,
                               to_status=request.status, actor=Actor(f"demandeur : {collectivite.name}"),
                               decision="completed", amount_cents=request.requested_cents)
    return request, recorded.id

