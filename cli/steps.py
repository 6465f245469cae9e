"""``territoires etapes reparer``: the recovery sweep on demand (it also runs daily, and when the
platform starts). See ``services/followup/recovery.py``."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Annotated

import typer

from cli.output import EXIT_FAILED, JsonOpt, command, print_json, print_table, user_errors
from cli.prefect_link import require_prefect
from models.french import accorde, pluriel

etapes_app = typer.Typer()
log = logging.getLogger("territoires.reprise")


async def _sweep_and_send(**options) -> dict:
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine
    from services.followup import recovery

    report = (await recovery.sweep(**options)).as_dict()
    if not options.get("dry_run"):
        report["courriels"] = (await OutboxSender(get_engine(), smtp_target()).send_pending()).as_dict()
    return report


@command(etapes_app, "reparer", "repair")
def steps_repair(
    dry_run: Annotated[
        bool, typer.Option("--simulation", "--dry-run", help="Montrer seulement ce qui serait repris")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Relancer aussi les étapes déjà relancées trop souvent (après correction de la cause)"
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare chaque étape ouverte avec son exécution Prefect et reprend celles qu'un incident a
    interrompues ; les administrateurs en sont informés par courriel."""
    from models.recovery import RecoveryPolicy
    from services.followup.recovery import ON_DEMAND

    with user_errors(as_json):
        require_prefect()
        report = asyncio.run(_sweep_and_send(policy=ON_DEMAND if force else RecoveryPolicy(), dry_run=dry_run))
    failed = [r for r in report["reprises"] if r["error"]]
    if as_json:
        print_json(report)
    else:
        n = len(report["reprises"])
        verb = accorde(n, "serait reprise", "seraient reprises") if dry_run else accorde(n, "reprise")
        typer.echo(f"{pluriel(report['etapes_controlees'], 'étape ouverte contrôlée')} ; {n} {verb}.")
        if report["reprises"]:
            print_table(
                report["reprises"],
                [
                    ("reference", "dossier"),
                    ("step", "étape"),
                    ("reason", "constat"),
                    ("libelle", "action"),
                    ("run_id", "exécution"),
                ],
            )
        if report["lots_termines"]:
            typer.echo(f"Délégations interrompues terminées : lots n° {', '.join(map(str, report['lots_termines']))}.")
    if failed:
        raise typer.Exit(EXIT_FAILED)


def repair_in_background() -> threading.Thread:
    """For ``territoires serve``: the sweep runs beside the serving loop, which picks up the runs
    it starts again; its failures are logged, never fatal."""

    def run() -> None:
        try:
            report = asyncio.run(_sweep_and_send())
            log.warning(
                "contrôle des étapes au démarrage : %s, %s",
                pluriel(report["etapes_controlees"], "étape contrôlée"),
                pluriel(len(report["reprises"]), "reprise"),
            )
        except Exception:  # noqa: BLE001 - the platform serves on; the daily run sweeps again
            log.exception("contrôle des étapes au démarrage impossible")

    thread = threading.Thread(target=run, name="reprise-des-etapes", daemon=True)
    thread.start()
    return thread
