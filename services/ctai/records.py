"""A contract's records: loading it, its funding, actions and diagnostic, and its view."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from models.actors import Collectivite
from models.ctai import CTAI_STATUS_LABELS, Action, Ctai, CtaiFunding, CtaiStatus, Diagnostic
from models.errors import NotFound
from models.reference import DOMAIN_LABELS, Domain
from services.engine.audit import decision_view, decisions_for


def load(session: Session, ctai_id: int) -> Ctai:
    ctai = session.get(Ctai, ctai_id)
    if ctai is None:
        raise NotFound(f"[{NotFound.code}] aucun CTAI n° {ctai_id}")
    return ctai


def contract_records(session: Session, ctai: Ctai) -> tuple[list[CtaiFunding], list[Action], Diagnostic | None]:
    funding = list(session.exec(select(CtaiFunding).where(CtaiFunding.ctai_id == ctai.id).order_by(CtaiFunding.year)))
    actions = list(session.exec(select(Action).where(Action.ctai_id == ctai.id).order_by(Action.id)))
    diagnostic = session.exec(select(Diagnostic).where(Diagnostic.ctai_id == ctai.id)).first()
    return funding, actions, diagnostic


def columns_of(row, exclude: set[str]) -> dict:
    """A row's stored values, to copy it (model_dump would re-validate the stored strings)."""
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name not in exclude}


def show(session: Session, ctai_id: int) -> dict:
    ctai = load(session, ctai_id)
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    funding, actions, diagnostic = contract_records(session, ctai)
    by_domain: dict[str, list[dict]] = defaultdict(list)
    for a in actions:
        by_domain[a.domain].append({
            "id": a.id, "intitule": a.title, "porteur_id": a.porteur_id, "public": a.public,
            "action_p104": a.p104_action, "montant_cents": a.amount_cents, "annee": a.year,
            "revue_diair": a.diair_review,
        })
    return {
        "id": ctai.id,
        "reference": ctai.reference,
        "type": ctai.kind,
        "statut": ctai.status,
        "statut_libelle": CTAI_STATUS_LABELS[CtaiStatus(ctai.status)],
        "collectivite": {"id": collectivite.id, "nom": collectivite.name, "departement": collectivite.departement_code},
        "annees": [ctai.first_year, ctai.last_year],
        "public": ctai.public_scope,
        "coordinateur": ctai.coordinator_name,
        "signature_prefet": ctai.prefet_signed_on.isoformat() if ctai.prefet_signed_on else None,
        "signature_elu": ctai.elu_signed_on.isoformat() if ctai.elu_signed_on else None,
        "remplace_ctair": ctai.replaces_ctair_id,
        "financement": [{"annee": f.year, "socle_cents": f.socle_cents, "complementaire_cents": f.complementary_cents} for f in funding],
        "diagnostic": None if diagnostic is None else {
            "annee": diagnostic.reference_year, "bpi": diagnostic.bpi_count,
            "primo_arrivants": diagnostic.primo_arrivants_count, "besoins": diagnostic.needs_by_domain,
            "valide": diagnostic.validated,
        },
        "actions_par_domaine": {
            DOMAIN_LABELS[Domain(domain)]: items for domain, items in sorted(by_domain.items())
        },
        "decisions": [decision_view(d) for d in decisions_for(session, "ctai", ctai.id)],
    }
