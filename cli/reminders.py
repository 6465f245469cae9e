"""``territoires relances lancer``: the daily reminders, now or as if on a given day."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated

import typer

from cli.output import JsonOpt, command, day, echo_fields, print_json, user_errors
from cli.output import parse_day as _parse_day
from models.types import paris_today

relances_app = typer.Typer()


FIRST_DAY = date(2019, 1, 1)  # the first CTAIR campaign
SIMULATION_DAYS = 366


@command(relances_app, "lancer", "run")
def reminders_run(
    day_: Annotated[
        str | None,
        typer.Option(
            "--date", help="Jour AAAA-MM-JJ (défaut : aujourd'hui) ; un jour à venir ne fait qu'une simulation"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Lance maintenant la tournée de relances, puis envoie la file de courriels. Pour un jour
    à venir, montre seulement ce qui se passerait : rien n'est enregistré, envoyé ni lancé."""
    from cli.prefect_link import prefect_problem
    from cli.workflow import start_or_warn
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine
    from services.followup import recovery, reminders

    now = paris_today()
    latest = now + timedelta(days=SIMULATION_DAYS)
    today = (
        _parse_day(day_, "date", as_json=as_json, earliest=FIRST_DAY, latest=latest, what="le jour de la tournée")
        if day_
        else now
    )
    if today > now:
        with user_errors(as_json):
            simulated = reminders.run(today, simulate=True)
        _out(simulated, as_json, f"Simulation de la tournée du {day(today)} : rien n'a été enregistré ni envoyé.")
        return
    with user_errors(as_json):
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
    _out(report, as_json, f"Tournée de relances du {day(today)} faite.")


def _out(report: dict, as_json: bool, title: str) -> None:
    """JSON, or the title and each count of the report in words."""
    if as_json:
        print_json(report)
        return
    typer.echo(title)
    pairs = []
    for key, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k.replace('_', ' ')} {len(v) if isinstance(v, list) else v}" for k, v in value.items())
        elif isinstance(value, list):
            value = len(value) if value and not isinstance(value[0], str) else "; ".join(value) or 0
        pairs.append((key.replace("_", " "), value))
    echo_fields(pairs)
