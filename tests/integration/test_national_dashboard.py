"""The national dataset reads back as the seeds' 2023 figures; the dashboard's figures add up;
its HTML page is self-contained (DSFR inlined, charts as SVG, nothing fetched). SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from demo.national import TERRITORIES, seed_national
from documents.dashboard import markdown, render_html
from models.actors import Collectivite, Porteur
from models.acts import ActKind, FinancialReport, LegalAct
from models.approval import StepRun, StepRunState
from models.ctai import Action, Ctai
from models.delegation import DelegationBatch
from models.pilotage import Comite, ComiteLevel, ComiteStatus
from models.ptai import PtaiRequest
from models.types import PARIS, paris_today
from services.cases import KINDS
from services.registry import seed_reference
from services.reporting.national import figures
from tests.cli import run_main

TODAY = date(2026, 12, 4)


def test_the_national_dataset_reads_back_44_territories_and_11_million_euros_for_2023(engine):
    with Session(engine) as s:
        created = seed_national(s, 2023)
        s.commit()
        f = figures(s, TODAY)
    assert created["collectivites"] == 44 and created["ctai"] == 44
    assert f["territoires"][2023] == {
        "communes": 28,
        "metropoles_epci": 13,
        "departements": 2,
        "regions": 1,
        "total": 44,
    }
    assert f["montants"]["par_annee"][2023]["total_cents"] == 11_000_000_00
    for breakdown in ("par_domaine", "par_action_p104", "par_departement"):
        assert sum(f["montants"][breakdown][2023].values()) == 11_000_000_00, breakdown
    with Session(engine) as s:
        actions = s.exec(select(func.count()).select_from(Action)).one()
    assert f["montants"]["par_annee"][2023]["actions_ctai"] == actions >= 44 * 5


def test_seeding_the_national_year_twice_adds_nothing(engine):
    with Session(engine) as s:
        seed_national(s, 2023)
        again = seed_national(s, 2023)
        s.commit()
        assert again == {"collectivites": 0, "ctai": 0, "actions": 0}
        assert s.exec(select(func.count()).select_from(Ctai)).one() == sum(n for _, n, _ in TERRITORIES) == 44


def test_the_seed_national_command_loads_the_dataset_and_refuses_another_year(app_env):
    status, out, _ = run_main("seed", "national", "--year", "2023")
    assert status == 0 and "collectivites +44" in out and "fictifs" in out
    status, out, _ = run_main("tableau-de-bord")
    assert status == 0 and "Territoires engagés : 44 (28 communes" in out and "1 conseil régional)" in out
    assert "Montant engagé : 11\u202f000\u202f000,00\u00a0€" in out  # the command line shows the cents
    status, _, err = run_main("seed", "national", "--year", "2022")
    assert status == 2 and "--annee" in err  # the option's French name (--year still works)


def test_the_report_is_one_self_contained_dsfr_page_with_its_charts(engine):
    with Session(engine) as s:
        seed_national(s, 2023)
        s.commit()
        f = figures(s, TODAY)
    html = render_html(f)
    assert '<p class="td-key" id="territoires-engages">44</p>' in html
    assert "11\u202f000\u202f000\u00a0€" in html
    assert html.count("<svg") >= 5 and "font-family:Marianne" in html.replace(" ", "")
    assert "data:font/woff2;base64," in html  # Marianne inlined
    assert "fr-header" in html and "Ministère" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # nothing fetched
    assert not re.search(r"url\((?![\"']?(?:data:|#))", html)  # data, or the SVG's own clip paths
    assert "default-src 'none'" in html


def test_the_markdown_artifact_has_the_figures_bars_and_the_report_link(engine):
    with Session(engine) as s:
        seed_national(s, 2023)
        s.commit()
        f = figures(s, TODAY)
    text = markdown(f, "http://127.0.0.1:4280/tableau-de-bord-national.html")
    assert "# Tableau de bord national — 2023" in text
    assert "| 44 | 11\u202f000\u202f000\u00a0€ |" in text
    assert "28 communes, 13 métropoles ou EPCI, 2 conseils départementaux, 1 conseil régional" in text
    assert "(http://127.0.0.1:4280/tableau-de-bord-national.html)" in text
    assert text.count("](data:image/png;base64,") >= 5  # the charts, inline in the Prefect UI


def test_an_empty_platform_has_a_dashboard_that_says_so(engine):
    with Session(engine) as s:
        f = figures(s, TODAY)
    assert f["annees"] == [] and f["etapes_en_retard"]["total"] == 0
    assert "Aucun contrat signé" in markdown(f, None)
    assert "<h1>Tableau de bord national</h1>" in render_html(f)


def test_late_steps_are_counted_per_departement_as_the_reminders_see_them(engine):
    long_ago, just_now = datetime.now(PARIS) - timedelta(days=90), datetime.now(PARIS)
    with Session(engine) as s:
        seed_national(s, 2023)
        for n, (ctai_id, opened) in enumerate([(1, long_ago), (2, long_ago), (3, just_now)]):
            s.add(
                StepRun(
                    entity_type="ctai",
                    entity_id=ctai_id,
                    step="bilan",
                    trigger_key=f"t{n}",
                    flow_run_id=f"r{n}",
                    state=StepRunState.LIVE,
                    awaited_role="instructeur",
                    opened_at=opened,
                )
            )
        s.commit()
        late = figures(s, paris_today())["etapes_en_retard"]
    assert late["total"] == 2 and late["par_departement"] == {
        "76": 1,
        "86": 1,
    }  # contracts 1 and 2: Vienne, Seine-Maritime
    assert late["par_etape"] == {"ctai:bilan": 2} and late["delais"] == {"ctai:bilan": 20}


def test_every_kind_of_case_finds_the_departements_of_many_cases_as_it_finds_one(engine):
    """The dashboard's bulk lookup (one query per chunk) agrees with each case's own answer."""
    with Session(engine) as s:
        seed_reference(s)
        coll = Collectivite(
            name="Ville de Tours", type="commune", siren="999000025", departement_code="37", email="t@x.example"
        )
        porteur = Porteur(name="Association", siret="99950001000014", email="a@x.example")
        s.add_all([coll, porteur])
        s.flush()
        act = LegalAct(
            family_key="porteur:1:44:2021",
            kind=ActKind.ARRETE,
            departement_code="44",
            year=2021,
            porteur_id=porteur.id,
            total_cents=100,
        )
        cases = [
            Ctai(collectivite_id=coll.id, first_year=2021, last_year=2023),
            PtaiRequest(
                campaign_year=2021,
                collectivite_id=coll.id,
                title="T",
                objectives="O",
                domains=["emploi"],
                public="bpi",
                cir_complementarity="C",
                p104_action=15,
                period_start=date(2021, 1, 1),
                period_end=date(2021, 12, 31),
                total_cost_cents=200,
                requested_cents=100,
                legal_act="arrete",
            ),
            DelegationBatch(year=2021),
            act,
            Comite(
                level=ComiteLevel.LOCAL,
                departement_code="2A",
                status=ComiteStatus.PLANNED_LOCAL,
                planned_on=date(2021, 6, 1),
            ),
            Comite(level=ComiteLevel.NATIONAL, status=ComiteStatus.PLANNED_NATIONAL, planned_on=date(2021, 6, 1)),
        ]
        s.add_all(cases)
        s.flush()
        s.add(
            FinancialReport(
                family_key="f",
                act_id=act.id,
                porteur_id=porteur.id,
                departement_code="44",
                year=2021,
                due_on=date(2022, 6, 30),
            )
        )
        s.flush()
        for entity, kind in KINDS.items():
            rows = s.exec(select(kind.model)).all()
            assert rows, entity
            expected = {row.id: kind.departement(s, row) for row in rows}
            assert kind.departements(s, [*expected, 999_999]) == expected, entity
