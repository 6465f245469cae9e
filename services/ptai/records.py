"""A PTAI request's records: submission (validate, then store), the applicant's complements,
and the request's view."""

from __future__ import annotations

import json
from datetime import date

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.actors import Collectivite, Porteur, PorteurCreate, clean_siret
from models.cerfa import (
    PtaiRequestFile,
    RuleCheck,
    check_submission,
    engagement_dict,
    parse_request_file,
    rule_checks,
    violations_from,
)
from models.errors import DomainError, NotFound, RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.ptai import PTAI_STATUS_LABELS, PtaiEvent, PtaiRequest, PtaiStatus, duplicate_key, ptai_reference
from models.reference import UnknownCampaign, campaign_rules
from models.rules import legal_act_for, public_of
from models.types import paris_today
from services.engine.audit import Actor, decision_view, decisions_for, record_decision
from services.engine.money import amounts_changed
from services.financial_report.records import blocking_reports
from services.ptai.steps import apply_decision


def submit(session: Session, text: str, today: date | None = None) -> PtaiRequest:
    """Validates the file against every rule, then stores the request and its first Decision.

    Raises RuleViolation listing every broken rule; the caller's transaction then stores nothing.
    """
    f = parse_request_file(text)
    collectivite = session.exec(
        select(Collectivite).where(Collectivite.siren == f.demandeur.siren.replace(" ", ""))
    ).first()
    porteur = None
    if f.porteur is not None:
        porteur = session.exec(select(Porteur).where(Porteur.siret == f.porteur.siret.replace(" ", ""))).first()
    try:
        rules = campaign_rules(f.campagne)
    except UnknownCampaign:
        rules = None
    blocking = blocking_reports(session, porteur.id, today) if porteur is not None else []
    raise_if_any(
        check_submission(
            f,
            collectivite_found=collectivite is not None,
            registered_porteur=porteur,
            rules=rules,
            r14_blocking=blocking,
        )
    )
    assert collectivite is not None and rules is not None

    if f.porteur is not None and porteur is None:
        porteur = _register_porteur_from_file(session, f)
    request = _request_from_file(f, collectivite, porteur, rules)
    _refuse_duplicate(session, request)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:  # filed at the same time by someone else
        raise RuleViolation([_duplicate_of(None)]) from None
    request.reference = ptai_reference(collectivite.departement_code, f.campagne, request.id)
    amounts_changed(session, ptai_request_ids=[request.id])
    record_decision(
        session,
        entity_type="ptai",
        entity_id=request.id,
        step="depot",
        from_status=None,
        to_status=PtaiStatus.SUBMITTED,
        actor=Actor(f"demandeur : {collectivite.name}"),
        decision=PtaiEvent.SUBMITTED,
        amount_cents=request.requested_cents,
    )
    return request


def _refuse_duplicate(session: Session, request: PtaiRequest, *, but: int | None = None) -> None:
    """The same applicant, porteur, title and campaign as an open request: refused, naming it."""
    key = duplicate_key(request.campaign_year, request.collectivite_id, request.porteur_id, request.title)
    with session.no_autoflush:
        first = session.exec(
            select(PtaiRequest).where(
                PtaiRequest.duplicate_key == key,
                PtaiRequest.status.not_in([PtaiStatus.REJECTED, PtaiStatus.CLOSED]),
                PtaiRequest.id != (but or 0),
            )
        ).first()
    if first is not None:
        raise RuleViolation([_duplicate_of(first)])
    request.duplicate_key = key


def _duplicate_of(first: PtaiRequest | None) -> Violation:
    name = f"la demande {first.reference}" if first is not None else "une demande déposée au même moment"
    return Violation(
        "DEMANDE_EN_DOUBLE",
        "projet.intitule",
        f"{name} porte déjà ce projet (même demandeur, porteur, "
        "intitulé et campagne) : complétez-la plutôt que d'en déposer une seconde",
    )


def _register_porteur_from_file(session: Session, f: PtaiRequestFile) -> Porteur:
    p = f.porteur
    try:
        data = PorteurCreate(
            name=p.nom,
            siret=clean_siret(p.siret),
            rna=p.rna,
            legal_form=p.forme_juridique,
            cultuelle=p.cultuelle,
            email=p.email,
        )
    except ValidationError as exc:
        raise RuleViolation(
            [Violation(v.code, f"porteur.{v.field}", v.message) for v in violations_from(exc)]
        ) from None
    except ValueError as exc:
        raise RuleViolation([Violation("PORTEUR_INVALIDE", "porteur", str(exc))]) from None
    row = Porteur.model_validate(data)
    session.add(row)
    session.flush()
    return row


def _request_from_file(f: PtaiRequestFile, collectivite: Collectivite, porteur: Porteur | None, rules) -> PtaiRequest:
    requested = euros_to_cents(f.budget.montant_demande_eur)
    return PtaiRequest(
        campaign_year=f.campagne,
        collectivite_id=collectivite.id,
        porteur_id=porteur.id if porteur else None,
        title=f.projet.intitule,
        objectives=f.projet.objectifs,
        domains=[str(d) for d in f.projet.domaines],
        public_categories=list(f.projet.public.categories),
        public=public_of(f.projet.public.categories, rules),
        beneficiaries_count=f.projet.public.nombre_beneficiaires,
        bpi_justification=f.projet.public.justification_bpi,
        widening_perspective=f.projet.public.perspective_elargissement,
        cir_complementarity=f.projet.complementarite_cir or "",
        engagement=[engagement_dict(e) for e in f.engagement_collectivite],
        nature=f.budget.nature,
        p104_action=f.budget.action_p104,
        period_start=f.projet.date_debut,
        period_end=f.projet.date_fin,
        total_cost_cents=euros_to_cents(f.budget.cout_total_eur),
        requested_cents=requested,
        legal_act=legal_act_for(requested, rules),
        status=PtaiStatus.SUBMITTED,
        submitted_payload=f.model_dump(mode="json"),
    )


def show(session: Session, request_id: int) -> dict:
    request = session.get(PtaiRequest, request_id)
    if request is None:
        raise NotFound(f"[{NotFound.code}] aucune demande PTAI n° {request_id}")
    collectivite = session.get(Collectivite, request.collectivite_id)
    porteur = session.get(Porteur, request.porteur_id) if request.porteur_id else None
    return {
        "id": request.id,
        "reference": request.reference,
        "campagne": request.campaign_year,
        "statut": request.status,
        "statut_libelle": PTAI_STATUS_LABELS[PtaiStatus(request.status)],
        "collectivite": {"id": collectivite.id, "nom": collectivite.name, "departement": collectivite.departement_code},
        "porteur": None if porteur is None else {"id": porteur.id, "nom": porteur.name, "siret": porteur.siret},
        "intitule": request.title,
        "domaines": request.domains,
        "public": request.public,
        "action_p104": request.p104_action,
        "acte_juridique": request.legal_act,
        "montant_demande_cents": request.requested_cents,
        "montant_propose_cents": request.proposed_cents,
        "montant_accorde_cents": request.granted_cents,
        "avis": request.opinion,
        "motifs_avis": request.opinion_reasons,
        "reports": request.postponements,
        "decisions": [decision_view(d) for d in decisions_for(session, "ptai", request.id)],
    }


class NotAwaitingApplicant(DomainError):
    code = "COMPLEMENT_NON_ATTENDU"


def complete(session: Session, request: PtaiRequest, text: str, today: date | None = None) -> tuple[PtaiRequest, int]:
    """The applicant's answer to a rework request (the locked ``request``): the whole file
    again, checked again; the request goes back to its instruction."""
    today = today or paris_today()
    if request.status != PtaiStatus.AWAITING_APPLICANT:
        raise NotAwaitingApplicant(
            f"[{NotAwaitingApplicant.code}] la demande {request.reference} n'attend pas de complément "
            f"(statut : {request.status})"
        )
    if request.rework_deadline is not None and today > request.rework_deadline:
        raise RuleViolation(
            [
                Violation(
                    "DELAI_DEPASSE",
                    "rework_deadline",
                    f"la date limite de réponse ({request.rework_deadline}) est dépassée",
                )
            ]
        )
    f = parse_request_file(text)
    collectivite = session.get(Collectivite, request.collectivite_id)
    porteur = session.get(Porteur, request.porteur_id) if request.porteur_id else None
    violations = check_submission(
        f,
        collectivite_found=f.demandeur.siren == collectivite.siren,
        registered_porteur=porteur,
        rules=campaign_rules(f.campagne),
    )
    filed = "".join(f.porteur.siret.split()) if f.porteur is not None else None
    if filed != (porteur.siret if porteur is not None else None) or f.campagne != request.campaign_year:
        violations.append(
            Violation(
                "DEMANDE_NON_MODIFIABLE",
                "porteur.siret",
                "les compléments portent sur la même "
                "demande : l'association porteuse et la campagne ne changent pas ; pour un autre "
                "porteur ou une autre campagne, déposez une nouvelle demande",
            )
        )
    raise_if_any(violations)
    rules = campaign_rules(f.campagne)
    request.title, request.objectives = f.projet.intitule, f.projet.objectifs
    _refuse_duplicate(session, request, but=request.id)
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
    apply_decision(request, PtaiEvent.COMPLETED)
    request.rework_deadline = None
    session.add(request)
    amounts_changed(session, ptai_request_ids=[request.id])
    recorded = record_decision(
        session,
        entity_type="ptai",
        entity_id=request.id,
        step="complement",
        from_status=before,
        to_status=request.status,
        actor=Actor(f"demandeur : {collectivite.name}"),
        decision=PtaiEvent.COMPLETED,
        amount_cents=request.requested_cents,
    )
    return request, recorded.id


def checks_now(session: Session, request: PtaiRequest, today: date | None = None) -> list[RuleCheck]:
    """Every submission rule run again on the request as filed (its stored file), against today's
    records: a préfecture's form shows what was really checked on this case and how it stands now
    (a compte rendu may have fallen due since the request was filed, R14)."""
    porteur = session.get(Porteur, request.porteur_id) if request.porteur_id else None
    try:
        f = parse_request_file(json.dumps(request.submitted_payload))
        rules = campaign_rules(f.campagne)
    except (RuleViolation, UnknownCampaign) as exc:
        found = (
            exc.violations if isinstance(exc, RuleViolation) else [Violation("CAMPAGNE_INCONNUE", "campagne", str(exc))]
        )
        return [RuleCheck("dossier", "dossier déposé lisible", tuple(found))]
    blocking = blocking_reports(session, porteur.id, today) if porteur is not None else []
    violations = check_submission(
        f, collectivite_found=True, registered_porteur=porteur, rules=rules, r14_blocking=blocking
    )
    return rule_checks(violations, has_porteur=f.porteur is not None)
