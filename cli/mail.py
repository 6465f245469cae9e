"""``territoires mail …`` and ``territoires mail-sink``."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from cli.output import PORT, fail, print_json, print_table, user_errors
from models.errors import Violation
from models.outbox import OutboxMessage
from notifications.events import EVENTS
from notifications.sender import OutboxSender
from notifications.sink import MailSink, SinkServer
from notifications.smtp import announce, smtp_target
from services.db import get_engine, unit_of_work
from settings import get_settings

mail_app = typer.Typer(help="Courriels : aperçu, envoi de la file, état.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


@mail_app.command("preview")
def preview(
    event: Annotated[str, typer.Argument(help="Événement, ou « all » pour tous")],
    to_dir: Annotated[Path, typer.Option("--to-dir", help="Dossier où écrire les aperçus")],
    as_json: JsonOpt = False,
) -> None:
    """Écrit les courriels tels qu'ils partent : les cas de la démonstration, dans une base jetable, passent par
    chaque étape et la file est envoyée par SMTP à un puits local (fichiers .eml, .txt et .html)."""
    from cli.demo_program import run_demo

    if event != "all" and event not in EVENTS:
        fail(
            [
                Violation(
                    "EVENEMENT_INCONNU", "event", f"événement « {event} » inconnu (connus : all, {', '.join(EVENTS)})"
                )
            ],
            as_json=as_json,
        )
    with user_errors(as_json):
        written = run_demo("previews", args=(str(to_dir.resolve()),))
    kept = [w for w in written if event == "all" or w["evenement"] == event]
    for w in written:
        if w not in kept:
            for suffix in (".eml", ".txt", ".html"):
                (to_dir / w["fichier"]).with_suffix(suffix).unlink(missing_ok=True)
    if as_json:
        print_json(kept)
        return
    for w in kept:
        typer.echo(f"{w['fichier']} : {w['objet']}")
    typer.echo(f"{len(kept)} aperçus écrits dans {to_dir}")


@mail_app.command("send")
def send(as_json: JsonOpt = False) -> None:
    """Envoie maintenant les courriels en attente dans la file."""
    target = smtp_target()
    if not as_json:
        typer.echo(announce(target))
    report = asyncio.run(OutboxSender(get_engine(), target).send_pending())
    if as_json:
        print_json(report.as_dict())
    else:
        typer.echo(f"Envoyés : {report.sent}, en échec définitif : {report.failed}, reportés : {report.deferred}.")
        for error in report.errors:
            typer.echo(f"  - {error}", err=True)


@mail_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Nombre de courriels par état dans la file."""
    with unit_of_work() as session:
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {str(s): n for s, n in rows}
    if as_json:
        print_json(counts)
    else:
        print_table(
            [{"statut": k, "nombre": v} for k, v in sorted(counts.items())], [("statut", "état"), ("nombre", "nombre")]
        )


def mail_sink(
    port: Annotated[int, typer.Option(help="Port d'écoute sur 127.0.0.1", **PORT)] = 1025,
    dir: Annotated[Path | None, typer.Option("--dir", help="Dossier des fichiers .eml")] = None,
) -> None:
    """Puits SMTP local : chaque courriel reçu est enregistré en .eml et affiché (destinataire, objet)."""
    directory = dir or get_settings().resolved_mail_dir
    server = SinkServer(MailSink(directory, echo=True), port=port).start()
    typer.echo(f"Puits SMTP à l'écoute sur 127.0.0.1:{server.port}, courriels enregistrés dans {directory}", err=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()
