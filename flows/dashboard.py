"""The national dashboard (07:30 Europe/Paris every day, and on demand)."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.runtime import flow_run

from models.types import paris_today
from tasks.reporting import publish_dashboard


def run_name() -> str:
    day = flow_run.parameters.get("day") or paris_today()
    return f"Tableau de bord national du {date.fromisoformat(str(day)):%d/%m/%Y}"


@flow(name="tableau-de-bord-national", flow_run_name=run_name, persist_result=True, log_prints=True)
async def tableau_de_bord_national(day: date | None = None) -> dict:
    """Computes the national figures (territories engaged by type and year; amounts engaged by
    year, domain, P104 action and département; actions funded; delegations against the
    envelope; late steps), publishes them as artifacts and writes the HTML report they link to."""
    today = day or paris_today()
    published = await publish_dashboard(today=today)
    print(f"Tableau de bord publié : {published['lien']}")
    return published
