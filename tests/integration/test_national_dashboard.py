"""The national dataset reads back as the seeds' 2023 figures; the dashboard's figures add up;
its HTML page is self-contained (DSFR inlined, charts as SVG, nothing fetched). SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, func, select

from demo.national import TERRITORIES, seed_national
from documents.dashboard import markdown, render_html
from models.ctai import Action, Ctai
from services.reporting.national import figures
from tests.cli import run_main

TODAY = date(2026, 12, 4)


def test_the_national_dataset_reads_back_44_territories_and_11_million_euros_for_2023(engine):
    with Session(engine) as s:
        created = seed_national(s, 2023)
        s.commit()
        f = figures(s, TODAY)
    assert created["collectivites"] == 44 and created["ctai"] == 44
    assert f["territoires"][2023] == {"communes": 28, "metropoles_epci": 13, "departements": 2, "regions": 1, "total": 44}
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
    assert "Montant engagé : 11\u202f000\u202f000\u00a0€" in out
    status, _, err = run_main("seed", "national", "--year", "2022")
    assert status == 2 and "--year" in err


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
    assert "█" in text and "(http://127.0.0.1:4280/tableau-de-bord-national.html)" in text


def test_an_empty_platform_has_a_dashboard_that_says_so(engine):
    with Session(engine) as s:
        f = figures(s, TODAY)
    assert f["annees"] == [] and f["etapes_en_retard"]["total"] == 0
    assert "Aucun contrat signé" in markdown(f, None)
    assert "<h1>Tableau de bord national</h1>" in render_html(f)
