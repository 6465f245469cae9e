"""A comité's records: planning it (its scope and contracts), reading it, listing them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models.actors import Collectivite, Porteur
from models.ctai import Action, Ctai, CtaiStatus
from models.errors import NotFound, raise_if_any
from models.french import pluriel
from models.pilotage import (
    COMITE_STATUS_LABELS,
    LEVEL_LABELS,
    PLANNED_STATUS,
    STEP_OF_LEVEL,
    Comite,
    ComiteActionReview,
    ComiteContract,
    ComiteEvent,
    ComiteLevel,
    ComiteParticipant,
    ComiteStatus,
    check_plan,
    comite_reference,
)
from models.reference import Departement
from models.types import paris_today
from services.engine.audit import Actor, decision_view, decisions_for, record_decision

ENTITY = "comite"
IN_EXECUTION = (CtaiStatus.ACTIVE, CtaiStatus.YEARLY_REVIEW)  # the contracts a comité can follow


def load(session: Session, comite_id: int) -> Comite:
    comite = session.get(Comite, comite_id)
    if comite is None:
        raise NotFound(f"[{NotFound.code}] aucun comité de pilotage n° {comite_id}")
    return comite


def contracts_in_scope(session: Session, level: ComiteLevel, departement_code: str | None) -> list[Ctai]:
    """The contracts in execution a comité of this level and scope can cover."""
    stmt = select(Ctai).join(Collectivite, Collectivite.id == Ctai.collectivite_id).where(Ctai.status.in_(IN_EXECUTION))
    if level == ComiteLevel.LOCAL:
        stmt = stmt.where(Collectivite.departement_code == departement_code)
    return list(session.exec(stmt.order_by(Ctai.id)))


def plan(
    session: Session,
    *,
    level: ComiteLevel | str,
    departement_code: str | None,
    planned_on: date,
    ctai_ids: list[int] | None = None,
    today: date | None = None,
    by: str | None = None,
) -> tuple[Comite, bool]:
    """A comité planned for ``planned_on``, covering the chosen contracts (none chosen: every
    contract in execution of its scope); or the one already planned with the same level, scope
    and date (so that running ``comite start`` again after a crash resumes instead of duplicating)."""
    level = ComiteLevel(level)
    departement_code = (departement_code or "").strip() or None
    chosen = sorted(set(ctai_ids or []))
    if departement_code is not None:
        departement_code = departement_code.upper()
    known = departement_code is not None and session.get(Departement, departement_code) is not None
    scope = contracts_in_scope(session, level, departement_code) if level == ComiteLevel.NATIONAL or known else []
    in_scope = {c.id for c in scope}
    raise_if_any(
        check_plan(
            level=level,
            departement_code=departement_code,
            departement_known=known,
            planned_on=planned_on,
            today=today or paris_today(),
            chosen=chosen,
            in_scope=in_scope,
        )
    )
    existing = session.exec(
        select(Comite).where(  # the same comité, planned already
            Comite.level == level,
            Comite.planned_on == planned_on,
            Comite.status == PLANNED_STATUS[level],
            Comite.departement_code == departement_code if departement_code else Comite.departement_code.is_(None),
        )
    )
    for same in existing:
        if set(contract_ids(session, same.id)) == set(chosen or in_scope):
            return same, False
    comite = Comite(level=level, departement_code=departement_code, planned_on=planned_on, status=PLANNED_STATUS[level])
    session.add(comite)
    session.flush()
    comite.reference = comite_reference(level, departement_code, planned_on.year, comite.id)
    for ctai_id in chosen or sorted(in_scope):
        session.add(ComiteContract(comite_id=comite.id, ctai_id=ctai_id))
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=comite.id,
        step="creation",
        from_status=None,
        to_status=comite.status,
        actor=Actor(by or "système"),
        decision=ComiteEvent.PLANNED,
        comment=f"comité {LEVEL_LABELS[level]} prévu le {planned_on:%d/%m/%Y}, "
        f"{pluriel(len(chosen or in_scope), 'contrat')}",
    )
    session.flush()
    return comite, True


def step_of(comite: Comite) -> str:
    return STEP_OF_LEVEL[ComiteLevel(comite.level)]


def contract_ids(session: Session, comite_id: int) -> list[int]:
    return list(
        session.exec(
            select(ComiteContract.ctai_id).where(ComiteContract.comite_id == comite_id).order_by(ComiteContract.ctai_id)
        )
    )


def collectivite_emails(session: Session, comite: Comite) -> list[str]:
    ids = [c.collectivite_id for c in contracts(session, comite)]
    return list(session.exec(select(Collectivite.email).where(Collectivite.id.in_(ids or [-1]))))


def contracts(session: Session, comite: Comite) -> list[Ctai]:
    ids = contract_ids(session, comite.id)
    return list(session.exec(select(Ctai).where(Ctai.id.in_(ids)).order_by(Ctai.id))) if ids else []


def actions(session: Session, comite: Comite) -> list[Action]:
    """The actions of the contracts the comité covers (what it may review)."""
    ids = contract_ids(session, comite.id)
    return list(session.exec(select(Action).where(Action.ctai_id.in_(ids)).order_by(Action.id))) if ids else []


def participants(session: Session, comite_id: int) -> list[ComiteParticipant]:
    return list(
        session.exec(
            select(ComiteParticipant)
            .where(ComiteParticipant.comite_id == comite_id)
            .order_by(ComiteParticipant.position)
        )
    )


def reviews(session: Session, comite_id: int) -> list[ComiteActionReview]:
    return list(
        session.exec(
            select(ComiteActionReview).where(ComiteActionReview.comite_id == comite_id).order_by(ComiteActionReview.id)
        )
    )


def departements_of(session: Session, comite: Comite) -> list[str]:
    """The départements concerned: the comité's own, or those of the contracts it covers."""
    if comite.level == ComiteLevel.LOCAL:
        return [comite.departement_code]
    found = {
        c.departement_code
        for c in session.exec(
            select(Collectivite)
            .join(Ctai, Ctai.collectivite_id == Collectivite.id)
            .where(Ctai.id.in_(contract_ids(session, comite.id) or [-1]))
        )
    }
    return sorted(found)


def flagged_for_review(session: Session, ctai_id: int) -> list[ComiteActionReview]:
    """The actions of a contract that comités flagged for its yearly review, oldest first."""
    return list(
        session.exec(
            select(ComiteActionReview)
            .where(ComiteActionReview.ctai_id == ctai_id, ComiteActionReview.flag_for_review.is_(True))
            .order_by(ComiteActionReview.id)
        )
    )


def show(session: Session, comite_id: int) -> dict:
    comite = load(session, comite_id)
    dep = session.get(Departement, comite.departement_code) if comite.departement_code else None
    titles = {a.id: a for a in actions(session, comite)}
    porteurs = {
        p.id: p.name
        for p in session.exec(
            select(Porteur).where(Porteur.id.in_([a.porteur_id for a in titles.values() if a.porteur_id] or [-1]))
        )
    }
    collectivites = {
        c.id: c
        for c in session.exec(
            select(Collectivite).where(
                Collectivite.id.in_([c.collectivite_id for c in contracts(session, comite)] or [-1])
            )
        )
    }
    return {
        "id": comite.id,
        "reference": comite.reference,
        "niveau": comite.level,
        "departement": None if dep is None else {"code": dep.code, "nom": dep.nom},
        "statut": comite.status,
        "statut_libelle": COMITE_STATUS_LABELS[ComiteStatus(comite.status)],
        "etape": step_of(comite),
        "date_prevue": comite.planned_on.isoformat(),
        "date_tenue": comite.held_on.isoformat() if comite.held_on else None,
        "contrats": [
            {
                "id": c.id,
                "reference": c.reference,
                "collectivite": collectivites[c.collectivite_id].name,
                "departement": collectivites[c.collectivite_id].departement_code,
                "statut": c.status,
            }
            for c in contracts(session, comite)
        ],
        "participants": [{"nom": p.name, "fonction": p.function} for p in participants(session, comite.id)],
        "actions_examinees": [
            {
                "action_id": r.action_id,
                "ctai_id": r.ctai_id,
                "intitule": titles[r.action_id].title if r.action_id in titles else None,
                "porteur": porteurs.get(titles[r.action_id].porteur_id) if r.action_id in titles else None,
                "decision": r.decision,
                "a_revoir_au_bilan": r.flag_for_review,
                "motif": r.reason,
            }
            for r in reviews(session, comite.id)
        ],
        "compte_rendu": comite.minutes,
        "motif_annulation": comite.cancel_reason,
        "decisions": [decision_view(d) for d in decisions_for(session, ENTITY, comite.id)],
    }


def listing(session: Session) -> list[dict]:
    out = []
    for comite in session.exec(select(Comite).order_by(Comite.planned_on, Comite.id)):
        out.append(
            {
                "id": comite.id,
                "reference": comite.reference,
                "niveau": comite.level,
                "departement": comite.departement_code,
                "date_prevue": comite.planned_on.isoformat(),
                "date_tenue": comite.held_on.isoformat() if comite.held_on else None,
                "statut": comite.status,
                "statut_libelle": COMITE_STATUS_LABELS[ComiteStatus(comite.status)],
                "contrats": len(contract_ids(session, comite.id)),
            }
        )
    return out
