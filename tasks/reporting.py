"""The Prefect tasks that publish what people look at: each département's follow-up table and
the national dashboard (its figures as Markdown and tables, its HTML page linked)."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from documents.dashboard import markdown
from services.db import unit_of_work
from services.engine import prefect_api
from services.reporting import followup
from services.reporting.report import refresh, report_link

FOLLOWUP_KEY = "suivi-{}"  # suivi-86, suivi-2a, suivi-national
DASHBOARD_KEY = "tableau-de-bord-national"


def followup_key(departement: str) -> str:
    return FOLLOWUP_KEY.format(departement.lower())


@task(
    name="tableaux-de-suivi-par-departement",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=5,
)
async def publish_followup(*, today: date) -> dict[str, int]:
    """One table artifact per département followed (it has collectivités or agents), and one
    for the cases decided nationally: rewritten every day, empty when nothing is open."""
    with unit_of_work() as session:
        found = followup.tables(session, today)
    published = {}
    for dep, rows in found.items():
        late = sum(row["Retard (jours ouvrés)"] != "—" for row in rows)
        where = "au niveau national" if dep == "national" else f"du département {dep}"
        await prefect_api.publish_table(
            followup_key(dep),
            rows,
            f"Dossiers ouverts {where} au {today:%d/%m/%Y} : {len(rows)}, dont {late} en retard.",
        )
        published[dep] = len(rows)
    return published


@task(name="tableau-de-bord-national", cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=5)
async def publish_dashboard(*, today: date) -> dict:
    figures, path = refresh(today)
    link = report_link(path)
    await prefect_api.publish_markdown(
        DASHBOARD_KEY, markdown(figures, link), f"Tableau de bord national au {today:%d/%m/%Y}"
    )
    await prefect_api.publish_link(
        f"{DASHBOARD_KEY}-rapport",
        link,
        "Rapport complet (graphiques, DSFR)",
        f"Tableau de bord national au {today:%d/%m/%Y}, page autonome",
    )
    return {
        "rapport": str(path),
        "lien": link,
        "annees": figures["annees"],
        "etapes_en_retard": figures["etapes_en_retard"]["total"],
    }
