"""Demo data: the real examples of DOMAIN.md, with FICTITIOUS identifiers and addresses.

Names, places, amounts and the dates they give come from the public sources (seeds 000, 001, 003,
004): the Poitiers contract (``demo.poitiers``), the seven cities' projects (``demo.projects``), the
actions funded in 2020 (``demo.examples_2020``). Every SIREN and SIRET here is made up: built from a
"999" prefix and given a valid Luhn key with python-stdnum, so it passes the checks but identifies
nobody. Email addresses use the reserved ``.example`` domain. What the sources do not give is
FICTITIOUS or ILLUSTRATIVE and each module says which: the dates they do not give (the history's
decisions say « date fictive », ``demo.history``), the splits of an amount among actions (the
totals are the sources'), the associations' names they do not give (« nom fictif »), the requests'
amounts, the bilan's figures.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select
from stdnum import luhn

from demo import examples_2020, poitiers, stages
from demo.projects import PROJECTS, demo_request
from models.actors import Agent, AgentCreate, Collectivite, CollectiviteCreate, Porteur, PorteurCreate, Role
from models.ctai import Ctai, CtaiKind
from models.ptai import PtaiRequest
from services.ptai.records import submit
from services.registry import add_agent, add_collectivite, add_porteur, seed_reference


def fictitious_siren(n: int) -> str:
    base = f"999{n:05d}"
    return base + luhn.calc_check_digit(base)


def fictitious_siret(n: int) -> str:
    base = fictitious_siren(500 + n) + f"{n % 10000:04d}"
    return base + luhn.calc_check_digit(base)


def fictitious_establishment(siren: str) -> str:
    """The seat's SIRET of a fictitious SIREN (NIC 00017 style: 0001 and a Luhn key)."""
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


# name, type, département: the cities of the sources (seeds 000, 001, 004), then the collectivités
# of seed 003's 2020 examples that the seed does not name (``demo.examples_2020``).
CITIES = [
    ("Ville de Poitiers", "commune", "86"),
    ("Ville du Havre", "commune", "76"),
    ("Ville de Tours", "commune", "37"),
    ("Grenoble-Alpes Métropole", "metropole", "38"),
    ("Dijon Métropole", "metropole", "21"),
    ("Clermont Auvergne Métropole", "metropole", "63"),
    ("Rennes Métropole", "metropole", "35"),
    ("Eurométropole de Strasbourg", "metropole", "67"),
]
COLLECTIVITES = [*CITIES, *examples_2020.UNNAMED]

# How their letters address the executive in office when the sources were written (2021).
APPELLATIONS = {
    "86": "Madame la maire",
    "76": "Monsieur le maire",
    "37": "Monsieur le maire",
    "38": "Monsieur le président",
    "21": "Monsieur le président",
    "63": "Monsieur le président",
    "35": "Madame la présidente",
    "67": "Madame la présidente",
}
# What the préfecture's agents sign under « Pour le préfet et par délégation » (generic offices).
AGENT_TITLES = {Role.INSTRUCTEUR: "le chef du bureau de l'accueil et de l'intégration des étrangers"}


def seed_demo(session: Session) -> dict:
    """Idempotent: running it twice adds nothing the second time. Each case is put at its demo
    stage when it is created (``demo.stages``), never moved again by a later seed."""
    seed_reference(session)
    created = {"collectivites": 0, "porteurs": 0, "agents": 0, "ctai": 0, "ptai": 0, "ctair": 0}
    by_name = {}
    for i, (name, kind, dep) in enumerate(COLLECTIVITES, start=1):
        siren = fictitious_siren(i)
        row = session.exec(select(Collectivite).where(Collectivite.siren == siren)).first()
        if row is None:
            city = i <= len(CITIES)
            row = add_collectivite(
                session,
                CollectiviteCreate(
                    name=name,
                    type=kind,
                    siren=siren,
                    siret=fictitious_establishment(siren),
                    departement_code=dep,
                    email=f"integration@collectivite-{dep if city else f'{dep}-{i}'}.example",
                    appellation=APPELLATIONS.get(dep) if city else None,
                ),
            )
            created["collectivites"] += 1
        by_name[name] = row
    cities = {dep: by_name[name] for name, _, dep in CITIES}

    created["agents"] += _prefecture_agents(session, list(cities))
    created["agents"] += _agent(
        session, "instructeur2.86@prefecture-86.example", "Second instructeur (86)", Role.INSTRUCTEUR, "86"
    )
    for role, name in (
        (Role.DIAIR, "Chargée de mission de la Diair"),
        (Role.MINISTERE, "Agent DGEF/DIAN"),
        (Role.ADMIN, "Administrateur"),
    ):
        created["agents"] += _agent(session, f"{role}@interieur.example", name, role, None)
    created["agents"] += _prefecture_agents(session, sorted({dep for _, _, dep in examples_2020.UNNAMED} - set(cities)))

    porteurs = {}
    names = poitiers.PORTEURS + [p.porteur for p in PROJECTS.values()]
    for i, name in enumerate(names, start=1):
        siret = fictitious_siret(i)
        row = session.exec(select(Porteur).where(Porteur.siret == siret)).first()
        if row is None:
            row = add_porteur(
                session,
                PorteurCreate(
                    name=name, siret=siret, email=f"contact@porteur-{i:02d}.example", rna=f"W{860000000 + i:09d}"
                ),
            )
            created["porteurs"] += 1
        porteurs[name] = row

    if (
        session.exec(select(Ctai).where(Ctai.collectivite_id == cities["86"].id, Ctai.kind == CtaiKind.CTAI)).first()
        is None
    ):
        ctai = poitiers.create(session, cities["86"], porteurs)
        acts = stages.stage_acts(session, ctai.id)
        poitiers.diair_review(session, ctai)
        stages.stage_reports(session, acts)
        stages.stage_contract(session, ctai.id)
        created["ctai"] += 1

    for dep, project in PROJECTS.items():
        collectivite = cities[dep]
        exists = session.exec(select(PtaiRequest).where(PtaiRequest.collectivite_id == collectivite.id)).first()
        if exists is None:
            request = submit(session, json.dumps(demo_request(collectivite, porteurs[project.porteur], project)))
            stages.stage_request(session, request, dep)
            created["ptai"] += 1

    created["ctair"] += examples_2020.seed_ctairs(session, by_name)
    return created


def _prefecture_agents(session: Session, departements: list[str]) -> int:
    added = 0
    for dep in departements:
        for role, label in ((Role.INSTRUCTEUR, "Agent instructeur"), (Role.PREFET, "Préfet")):
            added += _agent(session, f"{role}.{dep}@prefecture-{dep}.example", f"{label} ({dep})", role, dep)
    return added


def _agent(session: Session, email: str, name: str, role: Role, dep: str | None) -> int:
    if session.exec(select(Agent).where(Agent.email == email)).first() is not None:
        return 0
    add_agent(
        session, AgentCreate(email=email, name=name, role=role, departement_code=dep, title=AGENT_TITLES.get(role))
    )
    return 1
