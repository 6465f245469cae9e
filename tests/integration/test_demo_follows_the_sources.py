"""The demo states the sources' facts as written (both databases): the Poitiers contract of seed
004, the seven cities' projects of seeds 000 and 001, the actions funded in 2020 of seed 003, a
CTAIR of 2019–2020 ready to be widened; its history dated as the sources date it, the other dates
marked fictitious, and the audit trail intact."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from sqlmodel import Session, select

from demo.data import seed_demo
from models.actors import Collectivite, Porteur
from models.ctai import Action, Ctai, CtaiFunding, CtaiKind, CtaiStatus
from models.decision import Decision
from models.ptai import PtaiRequest
from models.types import to_paris
from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from services.engine import audit

# Seed 004, word for word.
TOIT_DU_MONDE = [
    "Accès aux droits",
    "Ateliers sociolinguistiques et médiation numérique",
    "Ateliers sociolinguistiques : quartiers prioritaires de la ville",
    "Apprentissage de la langue et d'accès à l'emploi ouverte prioritairement aux femmes",
    "Apprentissage de la langue et d'accès à l'emploi ouverte aux personnes en insertion dans le domaine du bâtiment",
    "Apprentissage de la langue et d'accès à l'emploi ouverte aux personnes en insertion dans le domaine de la "
    "restauration",
    "Université Populaire des Parents",
]
SIX_PORTEURS = {
    "Coallia",
    "Audacia",
    "Indigo Formation",
    "L'Astre en Moi",
    "Ufolep de la Vienne",
    "Centre d'animation de Beaulieu",
}
# Seeds 000 and 001: title, domain, public (P104 action 15 for refugees only, 12 otherwise).
PROJECTS = {
    "76": ("La parentalité au cœur de l'action sur l'égalité femmes / hommes", "parentalite", "primo_arrivants", 12),
    "37": ("La parentalité, problématique prioritaire du contrat territorial", "parentalite", "bpi", 15),
    "38": ("Robes de papier : l'art comme outil de thérapie collective", "sante", "bpi", 15),
    "21": ("Ensemble ! Pour une évolution des mentalités", "citoyennete", "bpi", 15),
    "63": ("Les échanges interculturels au service de l'intégration", "citoyennete", "bpi", 15),
    "35": ("Projet You.Me : un restaurant solidaire pour l'intégration", "emploi", "bpi", 15),
    "67": ("Projet Vélonomie", "mobilite", "primo_arrivants", 12),
}
# Seed 003: what the State engaged in 2020, by département (Occitanie: the Région's, Haute-Garonne).
ENGAGED_2020 = {"63": 10_000_000, "21": 30_000_000, "38": 2_000_000, "44": 5_000_000, "31": 42_000_000}


@pytest.fixture
def seeded(engine):
    with unit_of_work(engine) as s:
        seed_demo(s)
    return engine


def _poitiers(s: Session) -> Ctai:
    return s.exec(select(Ctai).where(Ctai.kind == CtaiKind.CTAI, Ctai.reference.like("CTAI-86-%"))).one()


def test_the_demo_poitiers_contract_has_toit_du_monde_seven_actions_signed_21_october_2021(seeded):
    with Session(seeded) as s:
        contract = _poitiers(s)
        funding = s.exec(select(CtaiFunding).where(CtaiFunding.ctai_id == contract.id)).all()
        toit = s.exec(select(Porteur).where(Porteur.name == "Toit du Monde")).one()
        actions = list(s.exec(select(Action).where(Action.ctai_id == contract.id).order_by(Action.id)))
        signature = s.exec(
            select(Decision).where(
                Decision.entity_type == "ctai", Decision.entity_id == contract.id, Decision.step == "signature"
            )
        ).one()
    assert (contract.prefet_signed_on, contract.elu_signed_on) == (date(2021, 10, 21), date(2021, 10, 21))
    assert [(f.year, f.socle_cents, f.complementary_cents) for f in funding] == [(2021, 15_000_000, 5_000_000)]
    primo = [a for a in actions if a.porteur_id == toit.id]
    assert [a.title for a in primo] == TOIT_DU_MONDE
    assert {(a.public, a.p104_action, a.year) for a in primo} == {("primo_arrivants", 12, 2021)}
    assert sum(a.amount_cents for a in primo) == 5_000_000
    assert not any("hébergement" in a.title.lower() for a in actions)
    assert to_paris(signature.created_at).date() == date(2021, 10, 21) and signature.decision == "sign"
    assert signature.amount_cents == 20_000_000 and "fictive" not in signature.actor_label


def test_the_demo_poitiers_socle_funds_the_coordinator_and_the_six_porteurs_bpi_actions(seeded):
    with Session(seeded) as s:
        contract = _poitiers(s)
        rows = s.exec(
            select(Action, Porteur)
            .join(Porteur, Porteur.id == Action.porteur_id, isouter=True)
            .where(Action.ctai_id == contract.id, Action.p104_action == 15)
        ).all()
    assert {p.name for _, p in rows if p is not None} == SIX_PORTEURS
    assert [a.title for a, p in rows if p is None] == ["Poste de coordonnateur du contrat territorial"]
    assert {a.public for a, _ in rows} == {"bpi"} and sum(a.amount_cents for a, _ in rows) == 15_000_000
    assert any(a.domain == "logement" for a, _ in rows)  # seed 004: « l'accès au logement en colocation »


def test_the_demo_history_is_dated_as_the_sources_and_says_which_dates_are_fictitious(seeded):
    with Session(seeded) as s:
        contract = _poitiers(s)
        history = list(
            s.exec(
                select(Decision)
                .where(Decision.entity_type == "ctai", Decision.entity_id == contract.id)
                .order_by(Decision.id)
            )
        )
        count, breaks = audit.verify(s)
    past = [d for d in history if d.step != "bilan"]  # the bilan 2021 is the demo's present
    assert [d.step for d in past] == [
        "creation",
        "engagement",
        "echange",
        "diagnostic",
        "coordinateur",
        "proposition",
        "signature",
        "revue_diair",
    ]
    assert all(to_paris(d.created_at).date() < date(2022, 1, 1) for d in past)
    assert [to_paris(d.created_at).date() for d in past] == sorted(to_paris(d.created_at).date() for d in past)
    for d in past:
        if d.step != "signature":
            assert "date fictive" in d.actor_label and "date fictive" in d.comment.lower(), d.step
    assert breaks == [] and count > len(history)


def test_the_demo_projects_of_the_seven_cities_have_their_own_titles_domains_and_publics(seeded):
    with Session(seeded) as s:
        rows = s.exec(
            select(PtaiRequest, Collectivite).join(Collectivite, Collectivite.id == PtaiRequest.collectivite_id)
        ).all()
    found = {c.departement_code: (r.title, r.domains[0], r.public, r.p104_action) for r, c in rows}
    assert found == PROJECTS
    assert all(len(r.domains) == 1 for r, _ in rows)


def test_the_demo_2020_examples_engage_the_seed_amounts_per_departement(seeded):
    with Session(seeded) as s:
        rows = s.exec(
            select(Collectivite.departement_code, Action.amount_cents, Ctai)
            .join(Ctai, Ctai.id == Action.ctai_id)
            .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
            .where(Action.year == 2020)
        ).all()
        registered = s.exec(select(Decision).where(Decision.decision == "registered")).all()
    engaged = defaultdict(int)
    for dep, cents, contract in rows:
        assert (contract.kind, contract.status, contract.public_scope) == ("ctair", "active", "bpi")
        engaged[dep] += cents
    assert dict(engaged) == ENGAGED_2020
    assert len(registered) == 6
    assert all(to_paris(d.created_at).year in (2019, 2020) and "date fictive" in d.actor_label for d in registered)


def test_the_demo_ctair_of_dijon_2019_2020_is_active_and_can_be_widened(seeded):
    with Session(seeded) as s:
        dijon = s.exec(select(Collectivite).where(Collectivite.name == "Dijon Métropole")).one()
        ctair = s.exec(select(Ctai).where(Ctai.collectivite_id == dijon.id, Ctai.kind == CtaiKind.CTAIR)).one()
        assert (ctair.status, ctair.first_year, ctair.last_year) == (CtaiStatus.ACTIVE, 2019, 2020)
        widening, created = ctai_workflow.create(s, collectivite_id=dijon.id, first_year=2022, from_ctair_id=ctair.id)
        assert created and widening.status == CtaiStatus.WIDENING and widening.replaces_ctair_id == ctair.id
        s.rollback()
