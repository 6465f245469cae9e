"""Demo data: the real examples of DOMAIN.md, with FICTITIOUS identifiers and addresses.

Names, places, amounts and dates come from the public sources (seeds 000, 001, 003, 004).
Every SIREN and SIRET here is made up: built from a "999" prefix and given a valid Luhn key
with python-stdnum, so it passes the checks but identifies nobody. Email addresses use the
reserved ``.example`` domain.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select
from stdnum import luhn

from demo import stages
from models.actors import Agent, AgentCreate, Collectivite, CollectiviteCreate, Porteur, PorteurCreate, Role
from models.ctai import Action, Ctai, CtaiFunding, CtaiStatus, Diagnostic, DiairReview, ctai_reference
from models.money import euros_to_cents
from models.ptai import PtaiRequest
from models.reference import Domain, P104Action, Public
from services.engine.audit import Actor, record_decision
from services.finance.acts import recompute_legal_acts
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


# name, type, département, domain of its flagship project (DOMAIN.md "real examples")
COLLECTIVITES = [
    ("Ville de Poitiers", "commune", "86", None),
    ("Ville du Havre", "commune", "76", Domain.PARENTALITE),
    ("Ville de Tours", "commune", "37", Domain.PARENTALITE),
    ("Grenoble-Alpes Métropole", "metropole", "38", Domain.SANTE),
    ("Dijon Métropole", "metropole", "21", Domain.CITOYENNETE),
    ("Clermont Auvergne Métropole", "metropole", "63", Domain.CULTURE_SPORT),
    ("Rennes Métropole", "metropole", "35", Domain.EMPLOI),
    ("Eurométropole de Strasbourg", "metropole", "67", Domain.MOBILITE),
]

# How their letters address the executive in office when the sources were written (2021).
APPELLATIONS = {"86": "Madame la maire", "76": "Monsieur le maire", "37": "Monsieur le maire",
                "38": "Monsieur le président", "21": "Monsieur le président", "63": "Monsieur le président",
                "35": "Madame la présidente", "67": "Madame la présidente"}
# What the préfecture's agents sign under « Pour le préfet et par délégation » (generic offices).
AGENT_TITLES = {Role.INSTRUCTEUR: "le chef du bureau de l'accueil et de l'intégration des étrangers"}

# Poitiers' CTAI 2021 (seed 004): 150 000 € socle (coordinator and BPI actions)
# + 50 000 € to Toit du Monde for primo-arrivants. The split of the socle is illustrative.
POITIERS_ACTIONS = [
    ("Coallia", "Accompagnement vers le logement des BPI", Domain.LOGEMENT, "40000"),
    ("Audacia", "Parcours vers l'emploi", Domain.EMPLOI, "30000"),
    ("Indigo Formation", "Ateliers sociolinguistiques", Domain.FRANCAIS, "30000"),
    ("L'Astre en Moi", "Soutien en santé mentale", Domain.SANTE, "15000"),
    ("Ufolep de la Vienne", "Sport et intégration", Domain.CULTURE_SPORT, "10000"),
    ("Centre d'animation de Beaulieu", "Liens avec les habitants du quartier", Domain.CITOYENNETE, "10000"),
    (None, "Coordination du contrat territorial", Domain.ACCES_DROITS, "15000"),
]

# Other examples (seeds 000, 001): one PTAI each, with the porteur named in the sources.
PROJECTS = {
    "76": ("Les Petits Pas du Havre", "Accueil parents-enfants primo-arrivants", "18000"),
    "37": ("Maison des familles de Tours", "Soutien à la parentalité des familles nouvellement arrivées", "22000"),
    "38": ("Robes de papier", "Robes de papier : ateliers de santé mentale", "20000"),
    "21": ("Dijon Citoyens du monde", "Parcours citoyen des primo-arrivants", "25000"),
    "63": ("Échanges Clermont Interculturel", "Rencontres et échanges interculturels", "30000"),
    "35": ("You.Me", "Restaurant You.Me : formation et emploi", "45000"),
    "67": ("Vélonomie", "Vélonomie : apprendre le vélo pour gagner en mobilité", "15000"),
}


def seed_demo(session: Session) -> dict:
    """Idempotent: running it twice adds nothing the second time. Each case is put at its demo
    stage when it is created (``demo.stages``), never moved again by a later seed."""
    seed_reference(session)
    created = {"collectivites": 0, "porteurs": 0, "agents": 0, "ctai": 0, "ptai": 0}
    collectivites = {}
    for i, (name, kind, dep, _) in enumerate(COLLECTIVITES, start=1):
        siren = fictitious_siren(i)
        row = session.exec(select(Collectivite).where(Collectivite.siren == siren)).first()
        if row is None:
            slug = dep
            row = add_collectivite(session, CollectiviteCreate(
                name=name, type=kind, siren=siren, siret=fictitious_establishment(siren), departement_code=dep,
                email=f"integration@collectivite-{slug}.example", appellation=APPELLATIONS.get(dep)))
            created["collectivites"] += 1
        collectivites[dep] = row

    for dep in collectivites:
        for role, label in ((Role.INSTRUCTEUR, "Agent instructeur"), (Role.PREFET, "Préfet")):
            created["agents"] += _agent(session, f"{role}.{dep}@prefecture-{dep}.example", f"{label} ({dep})", role, dep)
    created["agents"] += _agent(session, "instructeur2.86@prefecture-86.example", "Second instructeur (86)", Role.INSTRUCTEUR, "86")
    for role, name in ((Role.DIAIR, "Chargée de mission de la Diair"), (Role.MINISTERE, "Agent DGEF/DIAN"), (Role.ADMIN, "Administrateur")):
        created["agents"] += _agent(session, f"{role}@interieur.example", name, role, None)

    porteurs = {}
    names = [a[0] for a in POITIERS_ACTIONS if a[0]] + ["Toit du Monde"] + [p[0] for p in PROJECTS.values()]
    for i, name in enumerate(names, start=1):
        siret = fictitious_siret(i)
        row = session.exec(select(Porteur).where(Porteur.siret == siret)).first()
        if row is None:
            row = add_porteur(session, PorteurCreate(name=name, siret=siret, email=f"contact@porteur-{i:02d}.example",
                                                     rna=f"W{860000000 + i:09d}"))
            created["porteurs"] += 1
        porteurs[name] = row

    if session.exec(select(Ctai).where(Ctai.collectivite_id == collectivites["86"].id)).first() is None:
        ctai = _poitiers_ctai(session, collectivites["86"], porteurs)
        stages.stage_acts(session, ctai.id)
        stages.stage_contract(session, ctai.id)
        created["ctai"] += 1

    for dep, (porteur_name, title, amount) in PROJECTS.items():
        collectivite = collectivites[dep]
        domain = next(c[3] for c in COLLECTIVITES if c[2] == dep)
        exists = session.exec(select(PtaiRequest).where(PtaiRequest.collectivite_id == collectivite.id)).first()
        if exists is None:
            request = submit(session, json.dumps(demo_request(collectivite, porteurs[porteur_name], title, domain, amount)))
            stages.stage_request(session, request, dep)
            created["ptai"] += 1
    return created


def _agent(session: Session, email: str, name: str, role: Role, dep: str | None) -> int:
    if session.exec(select(Agent).where(Agent.email == email)).first() is not None:
        return 0
    add_agent(session, AgentCreate(email=email, name=name, role=role, departement_code=dep, title=AGENT_TITLES.get(role)))
    return 1


def _poitiers_ctai(session: Session, poitiers: Collectivite, porteurs: dict[str, Porteur]) -> Ctai:
    ctai = Ctai(collectivite_id=poitiers.id, first_year=2021, last_year=2023, public_scope=Public.PRIMO_ARRIVANTS,
                status=CtaiStatus.ACTIVE, coordinator_name="Coordinatrice CTAI (Ville de Poitiers)",
                letter_received_on=date(2020, 12, 15), letter_signatory="Maire de Poitiers",
                prefet_signed_on=date(2021, 10, 21), elu_signed_on=date(2021, 10, 21))
    session.add(ctai)
    session.flush()
    ctai.reference = ctai_reference("86", 2021, ctai.id)
    session.add(CtaiFunding(ctai_id=ctai.id, year=2021, socle_cents=euros_to_cents("150000"),
                            complementary_cents=euros_to_cents("50000")))
    session.add(Diagnostic(ctai_id=ctai.id, reference_year=2021, bpi_count=229, validated=True, needs_by_domain={
        "logement": "accès au logement autonome des BPI", "emploi": "insertion professionnelle",
        "apprentissage_francais": "cours de français à visée professionnelle"}))
    for porteur_name, title, domain, amount in POITIERS_ACTIONS:
        session.add(Action(ctai_id=ctai.id, title=title, domain=domain, public=Public.BPI,
                           porteur_id=porteurs[porteur_name].id if porteur_name else None,
                           p104_action=P104Action.REFUGIES, amount_cents=euros_to_cents(amount), year=2021,
                           diair_review=DiairReview.COMPLIANT))
    session.add(Action(ctai_id=ctai.id, title="Accueil et hébergement des primo-arrivants", domain=Domain.LOGEMENT,
                       public=Public.PRIMO_ARRIVANTS, porteur_id=porteurs["Toit du Monde"].id,
                       p104_action=P104Action.PRIMO_ARRIVANTS, amount_cents=euros_to_cents("50000"), year=2021,
                       diair_review=DiairReview.COMPLIANT))
    history = [("engagement", CtaiStatus.AWAITING_LETTER, CtaiStatus.EXCHANGE, "received"),
               ("signature", CtaiStatus.SIGNATURE, CtaiStatus.DIAIR_REVIEW, "sign"),
               ("revue_diair", CtaiStatus.DIAIR_REVIEW, CtaiStatus.ACTIVE, "approve")]
    session.flush()
    recompute_legal_acts(session, ctai_ids=[ctai.id])  # R13: Coallia and Toit du Monde get conventions
    for step, before, after, decision in history:
        record_decision(session, entity_type="ctai", entity_id=ctai.id, step=step, from_status=before,
                        to_status=after, actor=Actor("reprise de l'historique (démo)"), decision=decision,
                        amount_cents=euros_to_cents("200000") if decision == "sign" else None)
    return ctai


def demo_request(collectivite: Collectivite, porteur: Porteur, title: str, domain: Domain, amount: str) -> dict:
    """A Cerfa-12156-shaped request, as ``examples/ptai-request.json``."""
    total = Decimal(amount) * 2
    return {
        "campagne": 2021,
        "demandeur": {"siren": collectivite.siren, "nom": collectivite.name},
        "porteur": {"siret": porteur.siret, "nom": porteur.name, "email": porteur.email, "rna": porteur.rna},
        "projet": {
            "intitule": title,
            "objectifs": "Favoriser l'autonomie des personnes nouvellement arrivées sur le territoire.",
            "domaines": [str(domain)],
            "public": {"categories": ["refugie", "protection_subsidiaire", "primo_arrivant"], "nombre_beneficiaires": 40},
            "date_debut": "2021-09-01",
            "date_fin": "2022-08-31",
            "complementarite_cir": "Prolonge les formations civique et linguistique du CIR, sans s'y substituer.",
        },
        "engagement_collectivite": [
            {"type": "cofinancement", "montant_eur": f"{Decimal(amount) / 2:.2f}"},
            {"type": "salle", "valorisation": "mise à disposition d'une salle municipale deux fois par semaine"},
        ],
        "budget": {
            "nature": "fonctionnement",
            "cout_total_eur": f"{total:.2f}",
            "montant_demande_eur": f"{Decimal(amount):.2f}",
            "action_p104": 12,
            "cofinancements": [{"financeur": collectivite.name, "montant_eur": f"{Decimal(amount) / 2:.2f}"}],
        },
    }
