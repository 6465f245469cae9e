"""``ctai list``, ``ptai list``, ``lots list`` and ``actes list``: each filter (département,
status, year, awaited party, « en retard »), French tables, JSON and CSV, on SQLite and
PostgreSQL. The waits come from the step engine's live steps, as the reminders read them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session

from models.actors import Collectivite, Porteur
from models.acts import ActKind, LegalAct
from models.approval import StepRun, StepRunState
from models.ctai import Ctai, CtaiFunding, CtaiKind, CtaiStatus
from models.delegation import BatchStatus, DelegationBatch
from models.french import date_courte
from models.ptai import PtaiRequest, PtaiStatus
from models.types import PARIS, paris_today
from services.registry import seed_reference
from tests.cli import run, run_json
from tests.factories import action

LONG_AGO = datetime.now(PARIS) - timedelta(days=90)  # past every service level
JUST_NOW = datetime.now(PARIS)


def _request(coll: Collectivite, porteur: Porteur, year: int, status: PtaiStatus, title: str, **kw) -> PtaiRequest:
    return PtaiRequest(
        campaign_year=year,
        collectivite_id=coll.id,
        porteur_id=porteur.id,
        title=title,
        objectives="Objectifs",
        domains=["emploi"],
        public_categories=["refugie"],
        public="bpi",
        cir_complementarity="Complète le CIR",
        p104_action=15,
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        total_cost_cents=4_000_000,
        requested_cents=2_000_000,
        legal_act="arrete",
        status=status,
        **kw,
    )


@pytest.fixture
def cases(app_env, engine):
    """Two départements; contracts, requests, a batch and acts at various steps; some late."""
    with Session(engine) as s:
        seed_reference(s)
        poitiers = Collectivite(
            name="Ville de Poitiers", type="commune", siren="999000017", departement_code="86", email="p@x.example"
        )
        tours = Collectivite(
            name="Ville de Tours", type="commune", siren="999000025", departement_code="37", email="t@x.example"
        )
        porteur = Porteur(name="Toit du Monde", siret="99950001000014", email="a@x.example")
        s.add_all([poitiers, tours, porteur])
        s.flush()
        signing = Ctai(collectivite_id=poitiers.id, first_year=2021, last_year=2023, status=CtaiStatus.SIGNATURE)
        active = Ctai(collectivite_id=tours.id, first_year=2022, last_year=2024, status=CtaiStatus.ACTIVE)
        ctair = Ctai(
            collectivite_id=tours.id, kind=CtaiKind.CTAIR, first_year=2019, last_year=2020, status=CtaiStatus.REPLACED
        )
        s.add_all([signing, active, ctair])
        s.flush()
        s.add(CtaiFunding(ctai_id=active.id, year=2022, socle_cents=15_000_000))
        funded = action(year=2022)
        funded.ctai_id = active.id
        s.add(funded)
        late_request = _request(poitiers, porteur, 2021, PtaiStatus.SUBMITTED, "Ateliers de français")
        fresh_request = _request(tours, porteur, 2022, PtaiStatus.PREFET_VALIDATION, "Parentalité")
        asked = _request(
            poitiers,
            porteur,
            2021,
            PtaiStatus.AWAITING_APPLICANT,
            "[bold]Robes de papier",
            rework_deadline=paris_today() - timedelta(days=10),
        )
        batch = DelegationBatch(
            reference="LOT-2022-01", year=2022, status=BatchStatus.AWAITING, total_cents=2_000_000, requests_count=1
        )
        s.add_all([late_request, fresh_request, asked, batch])
        s.flush()
        fresh_request.batch_id = batch.id
        act = LegalAct(
            reference="AP-86-2021-0001",
            family_key="porteur:1:86:2021",
            kind=ActKind.ARRETE,
            departement_code="86",
            year=2021,
            porteur_id=porteur.id,
            total_cents=2_000_000,
        )
        s.add(act)
        s.flush()
        runs = [
            ("ctai", signing.id, "signature", "prefet", LONG_AGO),
            ("ptai", late_request.id, "instruction", "instructeur", LONG_AGO),
            ("ptai", fresh_request.id, "validation", "prefet", JUST_NOW),
            ("lot", batch.id, "arbitrage", "ministere", LONG_AGO),
            ("acte", act.id, "signature", "prefet", JUST_NOW),
        ]
        for n, (entity, entity_id, step, role, opened) in enumerate(runs):
            s.add(
                StepRun(
                    entity_type=entity,
                    entity_id=entity_id,
                    step=step,
                    trigger_key=f"t{n}",
                    flow_run_id=f"run-{n}",
                    state=StepRunState.LIVE,
                    awaited_role=role,
                    opened_at=opened,
                )
            )
        s.commit()
        return {
            "signing": signing.id,
            "active": active.id,
            "ctair": ctair.id,
            "late_request": late_request.id,
            "fresh_request": fresh_request.id,
            "asked": asked.id,
            "batch": batch.id,
            "act": act.id,
        }


def ids(*args: str) -> list[int]:
    result, rows = run_json(*args)
    assert result.exit_code == 0, result.output
    return [row["id"] for row in rows]


def test_ctai_list_filters_by_departement_status_year_awaited_role_and_lateness(cases):
    assert ids("ctai", "list") == [cases["active"], cases["ctair"], cases["signing"]]  # by département, then number
    assert ids("ctai", "list", "--departement", "86") == [cases["signing"]]
    assert ids("ctai", "list", "--statut", "active") == [cases["active"]]
    assert ids("ctai", "list", "--annee", "2020") == [cases["ctair"]]
    assert ids("ctai", "list", "--annee", "2023") == [cases["active"], cases["signing"]]
    assert ids("ctai", "list", "--attendu", "prefet") == [cases["signing"]]
    assert ids("ctai", "list", "--en-retard") == [cases["signing"]]
    assert ids("ctai", "list", "--en-retard", "--departement", "37") == []
    _, rows = run_json("ctai", "list", "--departement", "37")
    active = next(r for r in rows if r["id"] == cases["active"])
    assert active["finance_cents"] == 15_000_000 and active["actions"] == 1 and active["type"] == "CTAI"
    assert next(r for r in rows if r["id"] == cases["ctair"])["type"] == "CTAIR"


def test_a_late_step_shows_since_when_its_deadline_and_how_late_in_business_days(cases):
    _, rows = run_json("ctai", "list", "--en-retard")
    row = rows[0]
    assert row["etape_en_cours"] == "validation et signature" and row["attendu"] == "prefet"
    assert row["depuis"] == LONG_AGO.date().isoformat() and row["delai_jours_ouvres"] == 10
    assert date.fromisoformat(row["echeance"]) < paris_today() and row["retard_jours_ouvres"] > 30 and row["en_retard"]


def test_ptai_list_filters_and_shows_the_applicant_awaited_past_the_deadline_given(cases):
    assert ids("ptai", "list", "--departement", "86") == [cases["late_request"], cases["asked"]]
    assert ids("ptai", "list", "--statut", "prefet_validation") == [cases["fresh_request"]]
    assert ids("ptai", "list", "--annee", "2022") == [cases["fresh_request"]]
    assert ids("ptai", "list", "--attendu", "instructeur") == [cases["late_request"]]
    assert ids("ptai", "list", "--attendu", "demandeur") == [cases["asked"]]
    assert ids("ptai", "list", "--en-retard") == [cases["late_request"], cases["asked"]]
    _, rows = run_json("ptai", "list", "--attendu", "demandeur")
    assert rows[0]["echeance"] == (paris_today() - timedelta(days=10)).isoformat() and rows[0]["en_retard"]


def test_lots_list_filters_by_the_departements_of_its_requests_status_year_and_lateness(cases):
    assert ids("lots", "list") == [cases["batch"]]
    assert ids("lots", "list", "--departement", "37") == [cases["batch"]]
    assert ids("lots", "list", "--departement", "86") == []
    assert ids("lots", "list", "--statut", "awaiting", "--annee", "2022", "--attendu", "ministere", "--en-retard") == [
        cases["batch"]
    ]
    assert ids("lots", "list", "--annee", "2021") == []


def test_actes_list_filters_by_departement_status_year_and_awaited_signature(cases):
    assert ids("actes", "list", "--departement", "86", "--annee", "2021") == [cases["act"]]
    assert ids("actes", "list", "--statut", "awaiting_signature", "--attendu", "prefet") == [cases["act"]]
    assert ids("actes", "list", "--en-retard") == []  # opened today: within its ten business days
    assert ids("actes", "list", "--departement", "37") == []
    assert ids("acte", "list", "--departement", "86") == [cases["act"]]  # the singular group lists the same


def test_the_terminal_table_is_french_and_says_how_many_are_late(cases):
    result = run("ptai", "list")
    assert result.exit_code == 0
    out = result.stdout
    assert f"3 demandes au {date_courte(paris_today())}, dont 2 en retard" in out  # « 7 déc. 2026 »
    for header in ("référence", "demandeur", "intitulé", "attendu", "depuis le", "échéance", "retard"):
        assert header in out
    assert "j. ouvrés" in out and date_courte(LONG_AGO) in out
    assert "[bold]Robes" in out  # a title is shown as typed, never read as the table's markup
    assert "Aucun lot ne correspond à ces critères." in run("lots", "list", "--annee", "2030").stdout


def test_csv_is_semicolon_separated_with_every_field(cases):
    result = run("ctai", "list", "--csv", "--en-retard")
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter=";"))
    assert [int(r["id"]) for r in rows] == [cases["signing"]]
    assert rows[0]["attendu_libelle"] == "préfet" and rows[0]["collectivite"] == "Ville de Poitiers"


@pytest.mark.parametrize(
    "args, code, field",
    [
        (("--departement", "99"), "DEPARTEMENT_INCONNU", "departement"),
        (("--departement", "86; DROP TABLE ctai"), "DEPARTEMENT_INCONNU", "departement"),
        (("--statut", "inexistant"), "STATUT_INCONNU", "statut"),
        (("--attendu", "maire"), "ATTENDU_INCONNU", "attendu"),
    ],
)
@pytest.mark.parametrize("listed", ["ctai", "ptai", "lots", "actes"])
def test_a_bad_filter_is_refused_with_its_code_and_field(cases, listed, args, code, field):
    result, body = run_json(listed, "list", *args)
    assert result.exit_code == 2
    assert body["erreurs"][0]["code"] == code and body["erreurs"][0]["field"] == field


def test_a_year_out_of_bounds_is_refused_in_french(cases):
    result = run("ptai", "list", "--annee", "1999")
    assert result.exit_code == 2 and "2019" in result.output
