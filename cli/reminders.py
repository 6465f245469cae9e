"""``territoires reminders run``: the daily reminders, now or as if on a given day."""

from __future__ import annotations

import asyncio
from typing import Annotated, Optional

import typer

from cli.output import fail, print_json
from models.errors import Violation
from models.types import paris_today

reminders_app = typer.Typer(help="Relances quotidiennes.", no_args_is_help=True)


@reminders_app.command("run")
def reminders_run(day: Annotated[Optional[str], typer.Option("--date", help="Jour simulé AAAA-MM-JJ (défaut : aujourd'hui)")] = None) -> None:
    """Lance maintenant la tournée de relances, puis envoie la file de courriels ; JSON."""
    from datetime import date

    from cli.workflow import start_or_warn
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.followup import reminders
    from services.db import get_engine

    try:
        today = date.fromisoformat(day) if day else paris_today()
    except ValueError:
        fail([Violation("DATE_INVALIDE", "date", f"date attendue au format AAAA-MM-JJ : {day}")], as_json=True)
    report = reminders.run(today)
    for ctai_id in report["bilans_ouverts"]:
        _, warning = start_or_warn("ctai", ctai_id, f"bilan-{today.year - 1}")
        if warning:
            report.setdefault("avertissements", []).append(f"contrat n° {ctai_id} : {warning}")
    report["courriels"] = asyncio.run(OutboxSender(get_engine(), smtp_target()).send_pending()).as_dict()
    print_json(report)
