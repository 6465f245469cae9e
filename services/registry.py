"""Registering and listing the actors: collectivités, porteurs, agents; and reference data."""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import Agent, AgentCreate, Collectivite, CollectiviteCreate, Porteur, PorteurCreate
from models.errors import RuleViolation, Violation
from models.reference import Departement, load_departements


def seed_reference(session: Session) -> int:
    """Inserts or refreshes the 101 départements; returns how many are known."""
    existing = {d.code: d for d in session.exec(select(Departement))}
    for dep in load_departements():
        row = existing.get(dep.code)
        if row is None:
            session.add(dep)
        else:
            row.nom, row.region = dep.nom, dep.region
    session.flush()
    return len(load_departements())


def _require_departement(session: Session, code: str | None, field: str = "departement") -> None:
    if code is not None and session.get(Departement, code) is None:
        raise RuleViolation(
            [
                Violation(
                    "DEPARTEMENT_INCONNU",
                    field,
                    f"département « {code} » inconnu : chargez le référentiel (territoires seed reference) ou "
                    "corrigez le code",
                )
            ]
        )


def add_collectivite(session: Session, data: CollectiviteCreate) -> Collectivite:
    _require_departement(session, data.departement_code)
    if session.exec(select(Collectivite).where(Collectivite.siren == data.siren)).first():
        raise RuleViolation(
            [Violation("SIREN_DEJA_ENREGISTRE", "siren", f"une collectivité porte déjà le SIREN {data.siren}")]
        )
    row = Collectivite.model_validate(data)
    session.add(row)
    session.flush()
    return row


def add_porteur(session: Session, data: PorteurCreate) -> Porteur:
    if session.exec(select(Porteur).where(Porteur.siret == data.siret)).first():
        raise RuleViolation(
            [Violation("SIRET_DEJA_ENREGISTRE", "siret", f"un porteur porte déjà le SIRET {data.siret}")]
        )
    row = Porteur.model_validate(data)
    session.add(row)
    session.flush()
    return row


def add_agent(session: Session, data: AgentCreate) -> Agent:
    _require_departement(session, data.departement_code)
    if session.exec(select(Agent).where(Agent.email == data.email)).first():
        raise RuleViolation(
            [Violation("AGENT_DEJA_ENREGISTRE", "email", f"un agent est déjà enregistré avec le courriel {data.email}")]
        )
    row = Agent.model_validate(data)
    session.add(row)
    session.flush()
    return row


def list_collectivites(session: Session) -> list[Collectivite]:
    return list(session.exec(select(Collectivite).order_by(Collectivite.id)))


def list_porteurs(session: Session) -> list[Porteur]:
    return list(session.exec(select(Porteur).order_by(Porteur.id)))


def list_agents(session: Session) -> list[Agent]:
    return list(session.exec(select(Agent).order_by(Agent.id)))
