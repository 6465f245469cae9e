"""Recording a contract proposal (funding and actions) before it is checked and signed."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from models.actors import Porteur
from models.ctai import Action, CtaiFunding, CtaiStatus, check_action_porteurs, check_actions, check_funding
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.proposal import parse_proposal
from models.rules import within_ceiling
from services.ctai.records import load, porteur_facts, rules_of
from services.engine.money import amounts_changed

EDITABLE = {
    CtaiStatus.AWAITING_LETTER,
    CtaiStatus.EXCHANGE,
    CtaiStatus.DIAGNOSTIC,
    CtaiStatus.COORDINATOR,
    CtaiStatus.PROPOSAL,
    CtaiStatus.WIDENING,
}
BLOCKING = {
    "MONTANT_NEGATIF",
    "MONTANT_PLAFOND",
    "R17_ACTION_P104",
    "R15_SIRET_INVALIDE",
    "R15_ASSOCIATION_CULTUELLE",
    "R16_INVESTISSEMENT_EXCLU",
}


def propose(session: Session, ctai_id: int, text: str) -> list[Violation]:
    """Replaces the contract's funding and actions; returns the rules still broken (warnings:
    they block the proposal's validation and the signature, not the draft)."""
    proposal = parse_proposal(text)
    ctai = load(session, ctai_id)
    if ctai.status == CtaiStatus.DIAIR_REWORK:
        raise RuleViolation(
            [
                Violation(
                    "PROPOSITION_FIGEE",
                    "ctai",
                    f"le contrat {ctai.reference} est signé : seules les "
                    "actions signalées par la Diair se modifient, avec : territoires ctai rework "
                    f"{ctai.id} FICHIER.json",
                )
            ]
        )
    if ctai.status not in EDITABLE:
        raise RuleViolation(
            [
                Violation(
                    "PROPOSITION_FIGEE",
                    "ctai",
                    f"le contrat {ctai.reference} est au statut « {ctai.status} » : "
                    "il ne se modifie plus que par avenant, lors du bilan annuel",
                )
            ]
        )
    sirets = {a.porteur_siret for a in proposal.actions if a.porteur_siret}
    porteurs = {p.siret: p for p in session.exec(select(Porteur).where(Porteur.siret.in_(sirets)))} if sirets else {}
    raise_if_any(
        [
            Violation(
                "PORTEUR_INCONNU",
                f"actions[{i}].porteur_siret",
                f"aucun porteur enregistré avec le SIRET {a.porteur_siret} (territoires porteur add)",
            )
            for i, a in enumerate(proposal.actions)
            if a.porteur_siret and a.porteur_siret not in porteurs
        ]
    )
    funding = [
        CtaiFunding(
            ctai_id=ctai.id,
            year=f.annee,
            socle_cents=euros_to_cents(f.socle_eur),
            complementary_cents=euros_to_cents(f.complementaire_eur),
        )
        for f in proposal.financement
    ]
    actions = [
        Action(
            ctai_id=ctai.id,
            title=a.intitule,
            domain=a.domaine,
            public=a.public,
            p104_action=a.action_p104,
            porteur_id=porteurs[a.porteur_siret].id if a.porteur_siret else None,
            amount_cents=euros_to_cents(a.montant_eur),
            year=a.annee,
            nature=a.nature,
        )
        for a in proposal.actions
    ]
    found = (
        check_funding(funding, proposal.public, rules_of)
        + check_actions(actions, proposal.public, funding, rules_of)
        + check_action_porteurs(actions, porteur_facts(session, actions))
    )
    found += ceilings(funding, actions)
    raise_if_any([v for v in found if v.code in BLOCKING])
    session.execute(delete(Action).where(Action.ctai_id == ctai.id))
    session.execute(delete(CtaiFunding).where(CtaiFunding.ctai_id == ctai.id))
    session.add_all(funding + actions)
    ctai.public_scope = proposal.public
    ctai.first_year = min(ctai.first_year, *(f.annee for f in proposal.financement))
    ctai.last_year = max(ctai.last_year, *(f.annee for f in proposal.financement))
    session.add(ctai)
    session.flush()
    amounts_changed(session, ctai_ids=[ctai.id])
    return found


def ceilings(funding: list[CtaiFunding], actions: list[Action]) -> list[Violation]:
    """Each year's socle and complementary credits and each action within the ceilings of its
    own campaign (an input error beyond them)."""
    out = []
    for f in funding:
        ceiling = rules_of(f.year).plafond_action_cents
        out += within_ceiling(f"financement[{f.year}].socle", f.socle_cents, ceiling, "le socle")
        out += within_ceiling(
            f"financement[{f.year}].complementaire", f.complementary_cents, ceiling, "les crédits complémentaires"
        )
    for i, a in enumerate(actions):
        out += within_ceiling(
            f"actions[{i}].montant", a.amount_cents, rules_of(a.year).plafond_action_cents, "le montant de l'action"
        )
    return out
