"""``territoires reminders run``: the daily reminders, now or as if on a given day."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated

import typer

from cli.output import fail, print_json
from models.errors import Violation
from models.types import paris_today

reminders_app = typer.Typer(help="Relances quotidiennes.", no_args_is_help=True)


FIRST_DAY = date(2019, 1, 1)  # the first CTAIR campaign
SIMULATION_DAYS = 366


@reminders_app.command("run")
def reminders_run(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help="Jour AAAA-MM-JJ (défaut : aujourd'hui) ; un jour à venir ne fait qu'une simulation"
        ),
    ] = None,
) -> None:
    """Lance maintenant la tournée de relances, puis envoie la file de courriels ; JSON. Pour un jour
    à venir, montre seulement ce qui se passerait : rien n'est enregistré, envoyé ni lancé."""
    from cli.prefect_link import prefect_problem
    from cli.workflow import start_or_warn
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine
    from services.followup import recovery, reminders

    now = paris_today()
    try:
        today = date.fromisoformat(day) if day else now
    except ValueError:
        fail([Violation("DATE_INVALIDE", "date", f"date attendue au format AAAA-MM-JJ : {day[:40]}")], as_json=True)
    if not FIRST_DAY <= today <= now + timedelta(days=SIMULATION_DAYS):
        fail(
            [
                Violation(
                    "DATE_HORS_BORNES",
                    "date",
                    f"jour attendu entre le {FIRST_DAY:%d/%m/%Y} et le "
                    f"{now + timedelta(days=SIMULATION_DAYS):%d/%m/%Y}",
                )
            ],
            as_json=True,
        )
    if today > now:
        print_json(reminders.run(today, simulate=True))
        return
    report = reminders.run(today)
    for ctai_id in report["bilans_ouverts"]:
        _, warning = start_or_warn("ctai", ctai_id, f"bilan-{today.year - 1}")
        if warning:
            report.setdefault("avertissements", []).append(f"contrat n° {ctai_id} : {warning}")
    problem = prefect_problem()
    if problem:
        report.setdefault("avertissements", []).append(f"{problem} ; les étapes interrompues n'ont pas été reprises")
    else:
        report["reprise_des_etapes"] = asyncio.run(recovery.sweep()).as_dict()
    report["courriels"] = asyncio.run(OutboxSender(get_engine(), smtp_target()).send_pending()).as_dict()
    print_json(report)
