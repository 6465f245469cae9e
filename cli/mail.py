"""``territoires mail …`` and ``territoires mail-sink``."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
from sqlalchemy import func, select

from cli.output import PORT, fail, print_json, print_table
from models.errors import Violation
from models.outbox import OutboxMessage
from notifications.events import EVENTS, SAMPLES
from notifications.render import render
from notifications.sender import OutboxSender
from notifications.sink import MailSink, SinkServer
from notifications.smtp import announce, smtp_target
from services.db import get_engine, unit_of_work
from settings import get_settings

mail_app = typer.Typer(help="Courriels : aperçu, envoi de la file, état.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


@mail_app.command("preview")
def preview(event: Annotated[str, typer.Argument(help="Événement, ou « all » pour tous")],
            to_dir: Annotated[Path, typer.Option("--to-dir", help="Dossier où écrire les aperçus")]) -> None:
    """Rend les modèles avec des données d'exemple : EVENT.eml, EVENT.txt et EVENT.html."""
    events = list(EVENTS) if event == "all" else [event]
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        fail([Violation("EVENEMENT_INCONNU", "event", f"événement « {unknown[0]} » inconnu (connus : all, {', '.join(EVENTS)})")],
             as_json=False)
    to_dir.mkdir(parents=True, exist_ok=True)
    for name in events:
        msg = render(name, SAMPLES[name], to="destinataire@exemple.example", sender=get_settings().smtp_from)
        (to_dir / f"{name}.eml").write_bytes(bytes(msg))
        (to_dir / f"{name}.txt").write_text(msg.get_body(("plain",)).get_content(), encoding="utf-8")
        (to_dir / f"{name}.html").write_text(msg.get_body(("html",)).get_content(), encoding="utf-8")
        typer.echo(f"{name} : {msg['Subject']}")
    typer.echo(f"Aperçus écrits dans {to_dir}")


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
        print_table([{"statut": k, "nombre": v} for k, v in sorted(counts.items())], [("statut", "état"), ("nombre", "nombre")])


def mail_sink(port: Annotated[int, typer.Option(help="Port d'écoute sur 127.0.0.1", **PORT)] = 1025,
              dir: Annotated[Optional[Path], typer.Option("--dir", help="Dossier des fichiers .eml")] = None) -> None:
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
