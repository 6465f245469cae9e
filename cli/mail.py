"""``territoires courriels apercu|envoyer|etat`` and ``territoires puits-smtp``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from cli.output import PORT, JsonOpt, command, fail, print_json, print_table, user_errors
from models.errors import Violation

courriels_app = typer.Typer()

STATE_LABELS = {"pending": "en attente", "sending": "en cours d'envoi", "sent": "envoyé", "failed": "en échec"}
PREVIEWS_MARK = ".territoires-apercus"  # the file that says a folder holds previews this command wrote


def previews_folder(folder: Path, *, as_json: bool) -> Path:
    """Where the previews may go: a new folder, an empty one, or one this command filled before
    (it holds ``PREVIEWS_MARK``); never a file nor someone else's folder (``FICHIER_EXISTANT``)."""
    label = str(folder)[:300]
    if folder.exists() and not folder.is_dir():
        fail(
            [Violation("FICHIER_EXISTANT", label, "ce chemin est un fichier, pas un dossier : indiquez un dossier")],
            as_json=as_json,
        )
    if folder.is_dir() and any(folder.iterdir()) and not (folder / PREVIEWS_MARK).is_file():
        fail(
            [
                Violation(
                    "FICHIER_EXISTANT",
                    label,
                    "ce dossier contient déjà des fichiers qui ne sont pas des aperçus : indiquez un dossier "
                    "nouveau ou vide",
                )
            ],
            as_json=as_json,
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PREVIEWS_MARK).write_text("Aperçus écrits par « territoires courriels apercu ».\n", encoding="utf-8")
    except OSError as exc:
        fail(
            [
                Violation(
                    "DOSSIER_NON_ECRIT", label, f"dossier impossible à créer ({exc.strerror or type(exc).__name__})"
                )
            ],
            as_json=as_json,
        )
    return folder


@command(courriels_app, "apercu", "preview")
def preview(
    event: Annotated[str, typer.Argument(help="Événement, ou « all » pour tous")],
    to_dir: Annotated[
        Path,
        typer.Option(
            "--dossier", "--to-dir", help="Dossier où écrire les aperçus : nouveau, vide, ou déjà rempli d'aperçus"
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Écrit les courriels tels qu'ils partent : les cas de la démonstration, dans une base jetable, passent par
    chaque étape et la file est envoyée par SMTP à un puits local (fichiers .eml, .txt et .html)."""
    from cli.demo_program import run_demo
    from notifications.events import EVENTS

    if event != "all" and event not in EVENTS:
        fail(
            [
                Violation(
                    "EVENEMENT_INCONNU",
                    "event",
                    f"événement « {event[:60]} » inconnu (connus : all, {', '.join(EVENTS)})",
                )
            ],
            as_json=as_json,
        )
    folder = previews_folder(to_dir, as_json=as_json)
    with user_errors(as_json):
        written = run_demo("previews", args=(str(folder.resolve()),))
    kept = [w for w in written if event == "all" or w["evenement"] == event]
    for w in written:
        if w not in kept:
            for suffix in (".eml", ".txt", ".html"):
                (folder / w["fichier"]).with_suffix(suffix).unlink(missing_ok=True)
    if as_json:
        print_json(kept)
        return
    for w in kept:
        typer.echo(f"{w['fichier']} : {w['objet']}")
    typer.echo(f"{len(kept)} aperçus écrits dans {folder}")


@command(courriels_app, "envoyer", "send")
def send(as_json: JsonOpt = False) -> None:
    """Envoie maintenant les courriels en attente dans la file."""
    from notifications.sender import OutboxSender
    from notifications.smtp import announce, smtp_target
    from services.db import get_engine

    target = smtp_target()
    if not as_json:
        typer.echo(announce(target))
    with user_errors(as_json):
        report = asyncio.run(OutboxSender(get_engine(), target).send_pending())
    if as_json:
        print_json(report.as_dict())
    else:
        typer.echo(f"Envoyés : {report.sent}, en échec définitif : {report.failed}, reportés : {report.deferred}.")
        for error in report.errors:
            typer.echo(f"  - {error}", err=True)


@command(courriels_app, "etat", "status")
def status(as_json: JsonOpt = False) -> None:
    """Nombre de courriels par état dans la file."""
    from sqlalchemy import func, select

    from models.outbox import OutboxMessage
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {str(s): n for s, n in rows}
    if as_json:
        print_json(counts)
        return
    if not counts:
        typer.echo("La file de courriels est vide.")
        return
    print_table(
        [{"etat": STATE_LABELS.get(k, k), "nombre": v} for k, v in sorted(counts.items())],
        [("etat", "état"), ("nombre", "nombre")],
    )


def mail_sink(
    port: Annotated[int, typer.Option(help="Port d'écoute sur 127.0.0.1", **PORT)] = 1025,
    dir: Annotated[Path | None, typer.Option("--dossier", "--dir", help="Dossier des fichiers .eml")] = None,
) -> None:
    """Puits SMTP local : chaque courriel reçu est enregistré en .eml et affiché (destinataire, objet)."""
    import signal
    import threading

    from notifications.sink import MailSink, SinkServer
    from settings import get_settings

    directory = dir or get_settings().resolved_mail_dir
    if directory.exists() and not directory.is_dir():
        fail(
            [Violation("FICHIER_EXISTANT", str(directory)[:300], "ce chemin est un fichier, pas un dossier")],
            as_json=False,
        )
    with user_errors(False):
        server = SinkServer(MailSink(directory, echo=True), port=port).start()
    typer.echo(f"Puits SMTP à l'écoute sur 127.0.0.1:{server.port}, courriels enregistrés dans {directory}", err=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()
