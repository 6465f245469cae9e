"""``territoires up [--demo]``: the whole platform on one machine, on embedded defaults.

One supervising process migrates the database, starts a Prefect server (unless
``PREFECT_API_URL`` names one) and the local mail sink (unless SMTP is configured), serves every
deployment with its schedules, and says where to look. Ctrl-C stops everything in reverse
order. Everything lives under the data directory, so a second start picks up the same contracts,
requests, runs and emails.

Its children die with it, however it dies (``cli/processes.py``). It records where its Prefect
API and its processes are (``plateforme.json`` in the data folder): the other commands find the
platform there, and the next ``territoires up`` stops whatever a killed one left behind.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

import liveness
from cli import platform_state
from cli.demo_program import DemoFailed, run_demo
from cli.output import EXIT_FAILED, PORT, redacted_url
from cli.platform_state import PlatformRecord, Process
from cli.processes import Child, PlatformError, answers, port_is_free, spawn, wait_until
from cli.report_server import ReportServer
from settings import get_settings

BIN = Path(sys.executable).parent


def up(
    demo: Annotated[
        bool, typer.Option("--demo", help="Charge et lance la démonstration (Poitiers, demandes, lot)")
    ] = False,
    port: Annotated[int, typer.Option(help="Port de l'interface Prefect locale", **PORT)] = 4200,
) -> None:
    """Démarre toute la plateforme sur ce poste : base, serveur Prefect, puits de courriels, déploiements."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    running: list = []  # what was started, in order: processes (Child) and the mail sink
    record = PlatformRecord(liveness.identity())
    folder = get_settings().data_dir
    try:
        _take_over(folder)
        platform_state.save(record, folder)
        _run(demo, port, stop, running, record, folder)
        while not stop.wait(1):
            dead = next((c for c in running if isinstance(c, Child) and not c.alive()), None)
            if dead is not None:
                raise PlatformError(
                    "PROCESSUS_ARRETE", f"{dead.name} s'est arrêté ; fin du journal {dead.log} :\n{dead.tail()}"
                )
    except PlatformError as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        pass
    finally:
        if running:
            typer.echo("Arrêt de la plateforme…", err=True)
        for part in reversed(running):
            part.stop()
        platform_state.remove(record, folder)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("Plateforme arrêtée. Les données restent dans le dossier de données ; « territoires up » les reprend.")


def _take_over(folder: Path) -> None:
    """Refuses to start beside a running platform; stops what a killed one left behind."""
    other = platform_state.running_supervisor(folder)
    if other is not None:
        raise PlatformError(
            "PLATEFORME_DEJA_DEMARREE",
            f"une plateforme est déjà démarrée sur ce dossier de données "
            f"(processus {other.supervisor.split(':')[1]}, interface "
            f"{other.ui_url or 'en démarrage'}) : utilisez-la, ou arrêtez-la "
            f"(Ctrl-C dans son terminal) avant d'en démarrer une autre",
        )
    stopped = platform_state.stop_leftovers(folder)
    if stopped:
        typer.echo(f"Processus laissés par un arrêt brutal de la plateforme, arrêtés : {', '.join(stopped)}.", err=True)


def _started(record: PlatformRecord, folder: Path, child: Child) -> Child:
    record.processes.append(Process(child.name, child.process.pid, liveness.identity(child.process.pid)))
    platform_state.save(record, folder)
    return child


def _run(demo: bool, port: int, stop: threading.Event, running: list, record: PlatformRecord, folder: Path) -> None:
    """Starts everything, adding each part to ``running`` as soon as it runs (so that a failure
    half-way stops what was started), and to the platform's record."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    from notifications.sink import MailSink, SinkServer
    from notifications.smtp import smtp_target
    from services.migrate import upgrade

    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    seeded = _seed(demo)

    env = {k: v for k, v in os.environ.items() if k != platform_state.FROM_RECORD}
    api = None if os.environ.get(platform_state.FROM_RECORD) else PREFECT_API_URL.value()  # not a dead platform's
    _check_ports(
        None if api else port, settings.mail_sink_port if settings.uses_mail_sink else None, settings.reports_port
    )
    if api:
        ui = PREFECT_UI_URL.value() or api.removesuffix("/api")
        typer.echo(f"Serveur Prefect existant : {api} (PREFECT_API_URL)")
    else:
        api, ui = f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}"
        env.update(
            PREFECT_HOME=env.get("PREFECT_HOME") or str(data_dir / "prefect"),
            PREFECT_API_URL=api,
            PREFECT_UI_URL=ui,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        typer.echo(f"Démarrage du serveur Prefect sur {ui} (données : {env['PREFECT_HOME']})…")
        server = _started(
            record,
            folder,
            spawn(
                "le serveur Prefect",
                [sys.executable, "-m", "cli.prefect_server", "--host", "127.0.0.1", "--port", str(port)],
                env,
                logs / "prefect-server.log",
            ),
        )
        running.append(server)
        wait_until(lambda: answers(f"{api}/health"), server, stop, 180, "le serveur Prefect")
    env.setdefault("PREFECT_UI_URL", ui)
    record.api_url, record.ui_url = api, ui
    platform_state.save(record, folder)
    env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")  # a resumed step starts within seconds

    if settings.uses_mail_sink:
        running.append(SinkServer(MailSink(settings.resolved_mail_dir.resolve()), port=settings.mail_sink_port).start())
    mail_line = f"Courriels : {smtp_target(settings).describe()}"
    reports = ReportServer(settings.resolved_reports_dir.resolve(), settings.reports_port).start()
    running.append(reports)
    env.setdefault("TERRITOIRES_REPORTS_URL", reports.url)
    dashboard = f"{reports.url}/{_first_dashboard(settings)}"

    typer.echo("Démarrage des déploiements (toutes les étapes, le lot mensuel et les relances quotidiennes)…")
    served = _started(
        record,
        folder,
        spawn("le service des déploiements", [str(BIN / "territoires"), "serve"], env, logs / "serve.log"),
    )
    running.append(served)
    start = served.log.stat().st_size
    wait_until(
        lambda: b"being served" in served.log.read_bytes()[start:], served, stop, 180, "le service des déploiements"
    )

    started = {}
    if demo:
        try:
            started = run_demo("runs", env={**env, "PREFECT_API_URL": api, "PREFECT_UI_URL": ui})
        except Exception as exc:  # noqa: BLE001 - the platform runs on; the next start tries again
            typer.echo(
                f"Attention : les exécutions de la démonstration n'ont pas toutes pu être lancées "
                f"({type(exc).__name__} : {exc}) ; « territoires up --demo » les relancera.",
                err=True,
            )
    _banner(ui, mail_line, settings, logs, seeded, started, dashboard)


def _check_ports(prefect_port: int | None, sink_port: int | None, reports_port: int) -> None:
    """Before anything starts: a taken port is refused with what to do about it."""
    if prefect_port is not None and not port_is_free(prefect_port):
        raise PlatformError(
            "PORT_OCCUPE",
            f"le port {prefect_port} de 127.0.0.1 est déjà pris (un « territoires up » "
            f"encore actif ?) : arrêtez-le, choisissez --port, ou indiquez un serveur "
            f"Prefect avec PREFECT_API_URL",
        )
    if sink_port is not None and not port_is_free(sink_port):
        raise PlatformError(
            "PORT_OCCUPE",
            f"le port {sink_port} du puits de courriels est déjà pris : "
            f"changez TERRITOIRES_MAIL_SINK_PORT ou configurez TERRITOIRES_SMTP_HOST",
        )
    if not port_is_free(reports_port):
        raise PlatformError(
            "PORT_OCCUPE",
            f"le port {reports_port} des rapports (tableau de bord) est déjà pris : changez TERRITOIRES_REPORTS_PORT",
        )


def _seed(demo: bool) -> dict | None:
    from services.db import unit_of_work
    from services.registry import seed_reference

    with unit_of_work() as session:
        seed_reference(session)
    if not demo:
        return None
    try:
        return run_demo("seed")
    except DemoFailed as exc:
        raise PlatformError(DemoFailed.code, exc.message) from None


def _first_dashboard(settings) -> str:
    """The national dashboard's page, written now so that its address answers from the start
    (the flow ``tableau-de-bord-national`` rewrites it every morning); its file name."""
    from models.types import paris_today
    from services.reporting.report import refresh

    return refresh(paris_today(), settings.resolved_reports_dir)[1].name


def _banner(ui: str, mail_line: str, settings, logs: Path, seeded: dict | None, started: dict, dashboard: str) -> None:
    lines = [
        "",
        "Territoires est prêt.",
        f"  Interface Prefect : {ui}",
        f"  Étapes en attente d'une décision : {ui}/runs (état « Suspended »)",
        f"  Tableau de bord national : {dashboard}",
        f"  {mail_line}",
    ]
    if settings.uses_mail_sink:
        lines.append(
            f"  Dossier des courriels (un fichier .eml par courriel, codes d'approbation compris) : "
            f"{settings.resolved_mail_dir.resolve()}"
        )
    lines += [
        f"  Base de données : {redacted_url(settings.resolved_database_url)}",
        f"  Journaux : {logs}",
        f"  Clé de la piste d'audit et des codes : {settings.key_source}",
    ]
    if seeded is not None:
        new = "chargée" if any(seeded.values()) else "reprise telle qu'elle était"
        stages = " ; ".join(f"{label} : {n}" for label, n in started.items() if n)
        lines.append(f"  Démonstration {new}" + (f" : {stages}" if stages else ""))
    lines += ["Ctrl-C pour tout arrêter.", ""]
    typer.echo("\n".join(lines))
