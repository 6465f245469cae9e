"""A contract's records: loading it, its funding, actions and diagnostic, and its view."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from models.actors import Collectivite, Porteur
from models.ctai import (
    CTAI_STATUS_LABELS,
    DIAIR_REVIEW_LABELS,
    Action,
    Ctai,
    CtaiActionReview,
    CtaiFunding,
    CtaiReview,
    CtaiStatus,
    Diagnostic,
    DiairReview,
    PorteurFacts,
)
from models.errors import NotFound
from models.pilotage import Comite, ComiteActionReview
from models.reference import DOMAIN_LABELS, Domain, rules_or_nearest
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


rules_of = rules_or_nearest  # each funded year of a contract is checked with its own campaign's rules


def porteur_facts(session: Session, actions: list[Action]) -> dict[int, PorteurFacts]:
    """What R15 needs of the porteurs of these actions."""
    ids = {a.porteur_id for a in actions if a.porteur_id is not None}
    if not ids:
        return {}
    return {p.id: PorteurFacts(p.siret, p.cultuelle) for p in session.exec(select(Porteur).where(Porteur.id.in_(ids)))}


def review_of(session: Session, ctai_id: int, year: int | None) -> CtaiReview | None:
    if year is None:
        return None
    return session.exec(select(CtaiReview).where(CtaiReview.ctai_id == ctai_id, CtaiReview.year == year)).first()


def reviewed_years(session: Session, ctai_id: int) -> set[int]:
    """The years whose bilan is concluded (prolonged, or signed by the préfet)."""
    return set(
        session.exec(select(CtaiReview.year).where(CtaiReview.ctai_id == ctai_id, CtaiReview.decided_at.is_not(None)))
    )


def renewal_of(session: Session, ctai_id: int) -> Ctai | None:
    """The contract created to follow ``ctai_id`` at the end of its term, if any."""
    return session.exec(select(Ctai).where(Ctai.renews_ctai_id == ctai_id)).first()


def flagged_for_review(session: Session, ctai_id: int) -> list[dict]:
    """The actions of this contract that a comité de pilotage flagged for the yearly review, with
    the comité and its reason: [{"action_id", "comite", "date", "observation"}]."""
    rows = session.exec(
        select(ComiteActionReview, Comite)
        .join(Comite, Comite.id == ComiteActionReview.comite_id)
        .where(ComiteActionReview.ctai_id == ctai_id, ComiteActionReview.flag_for_review.is_(True))
        .order_by(Comite.held_on, ComiteActionReview.action_id)
    ).all()
    return [
        {
            "action_id": r.action_id,
            "comite": c.reference or f"n° {c.id}",
            "date": c.held_on or c.planned_on,
            "observation": r.reason,
        }
        for r, c in rows
    ]


def columns_of(row, exclude: set[str]) -> dict:
    """A row's stored values, to copy it (model_dump would re-validate the stored strings)."""
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name not in exclude}


def show(session: Session, ctai_id: int) -> dict:
    ctai = load(session, ctai_id)
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    funding, actions, diagnostic = contract_records(session, ctai)
    by_domain: dict[str, list[dict]] = defaultdict(list)
    for a in actions:
        by_domain[a.domain].append(
            {
                "id": a.id,
                "intitule": a.title,
                "porteur_id": a.porteur_id,
                "public": a.public,
                "action_p104": a.p104_action,
                "montant_cents": a.amount_cents,
                "annee": a.year,
                "revue_diair": a.diair_review,
                "revue_diair_libelle": DIAIR_REVIEW_LABELS[DiairReview(a.diair_review)],
                "observation_diair": a.diair_comment if a.diair_review == DiairReview.REWORK else None,
                "nature": a.nature,
                "acte_juridique": a.legal_act,
            }
        )
    reviews = list(session.exec(select(CtaiReview).where(CtaiReview.ctai_id == ctai.id).order_by(CtaiReview.year)))
    review_lines = {}
    if reviews:
        for b in session.exec(
            select(CtaiActionReview)
            .where(CtaiActionReview.review_id.in_([r.id for r in reviews]))
            .order_by(CtaiActionReview.action_id)
        ):
            review_lines.setdefault(b.review_id, []).append(
                {
                    "action_id": b.action_id,
                    "realisee": b.carried_out,
                    "public_atteint": b.public_reached,
                    "consomme_cents": b.consumed_cents,
                }
            )
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
        "cosignature_diair": None
        if not ctai.diair_cosignatory_name
        else {
            "nom": ctai.diair_cosignatory_name,
            "date": ctai.diair_cosigned_on.isoformat() if ctai.diair_cosigned_on else None,
        },
        "remplace_ctair": ctai.replaces_ctair_id,
        "renouvelle": ctai.renews_ctai_id,
        "bilan_en_cours": ctai.review_year,
        "bilans": [
            {
                "annee": r.year,
                "proposition": r.proposal,
                "socle_cents": r.socle_cents,
                "complementaire_cents": r.complementary_cents,
                "conclu": r.decided_at is not None,
                "actions": review_lines.get(r.id, []),
            }
            for r in reviews
        ],
        "financement": [
            {"annee": f.year, "socle_cents": f.socle_cents, "complementaire_cents": f.complementary_cents}
            for f in funding
        ],
        "diagnostic": None
        if diagnostic is None
        else {
            "annee": diagnostic.reference_year,
            "bpi": diagnostic.bpi_count,
            "primo_arrivants": diagnostic.primo_arrivants_count,
            "besoins": diagnostic.needs_by_domain,
            "valide": diagnostic.validated,
        },
        "actions_par_domaine": {DOMAIN_LABELS[Domain(domain)]: items for domain, items in sorted(by_domain.items())},
        "decisions": [decision_view(d) for d in decisions_for(session, "ctai", ctai.id)],
    }
