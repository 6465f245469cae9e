"""``territoires up [--demo]``: the whole platform on one machine, on embedded defaults.

One supervising process migrates the database, starts a Prefect server (unless
``PREFECT_API_URL`` names one) and the local mail sink (unless SMTP is configured), serves every
deployment with its schedules, and says where to look. It says each stage as it starts (the
first line before anything slow, Prefect's import included), and says it is ready only once the
walk-through can start: the runs it started wait on their forms and their emails are out (nothing
due in the outbox). Ctrl-C stops everything in reverse order. Everything lives under the data
directory, so a second start picks up the same contracts, requests, runs and emails.

Its children die with it, however it dies (``cli/processes.py``). It records where its Prefect
API and its processes are (``plateforme.json`` in the data folder): the other commands find the
platform there, and the next ``territoires up`` stops whatever a killed one left behind.

The start-up recovery sweep (``services/followup/recovery.py``) runs here, once the deployments are
served and the demo's runs started, not in the serving process as it starts: before that, the
demo's cases waiting for their first run would be reported to the operators as interrupted steps
(and could not be started: their deployments did not exist yet). ``up`` also publishes the audit
trail's head at start, so that ``territoires audit verify`` has one to compare with from the start.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

import liveness
from cli import platform_state
from cli.demo_program import DemoFailed, run_demo
from cli.output import EXIT_FAILED, PORT, redacted_url
from cli.platform_state import PlatformRecord, Process
from cli.processes import SERVING, Child, PlatformError, answers, port_is_free, spawn, wait_for, wait_until
from cli.report_server import ReportServer
from settings import get_settings

BIN = Path(sys.executable).parent
SETTLE_SECONDS = 300  # the demo's runs reach their forms and mail their codes well within this
PROGRESS_SECONDS = 10


def say(line: str) -> None:
    """A stage, printed as it starts (``click.echo`` flushes at once, even into a pipe or a file)."""
    typer.echo(line)


def up(
    demo: Annotated[
        bool, typer.Option("--demo", help="Charge et lance la démonstration (Poitiers, demandes, lot)")
    ] = False,
    port: Annotated[int, typer.Option(help="Port de l'interface Prefect locale", **PORT)] = 4200,
) -> None:
    """Démarre toute la plateforme sur ce poste : base, serveur Prefect, puits de courriels, déploiements."""
    folder = get_settings().data_dir
    say(f"Démarrage de Territoires (dossier de données : {folder.resolve()})…")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    running: list = []  # what was started, in order: processes (Child) and the mail sink
    record = PlatformRecord(liveness.identity())
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


def _still(what: str):
    """What a long wait says every few seconds: « … le serveur Prefect démarre (20 s) »."""
    return lambda seconds: say(f"  … {what} ({seconds:.0f} s)")


def _interrupted(stop: threading.Event) -> None:
    """Ctrl-C during a stage that cannot be interrupted half-way: stop once it is over (a child
    process of that stage, which got the same Ctrl-C from the terminal, may have failed of it)."""
    if stop.is_set():
        raise KeyboardInterrupt


def _run(demo: bool, port: int, stop: threading.Event, running: list, record: PlatformRecord, folder: Path) -> None:
    """Starts everything, adding each part to ``running`` as soon as it runs (so that a failure
    half-way stops what was started), and to the platform's record. The Prefect server boots
    while the database is seeded and the first dashboard written."""
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    say("Migration de la base…")
    from services.migrate import upgrade

    upgrade(settings.resolved_database_url)
    _interrupted(stop)
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL  # Prefect's import: seconds, said above

    env = {k: v for k, v in os.environ.items() if k != platform_state.FROM_RECORD}
    api = None if os.environ.get(platform_state.FROM_RECORD) else PREFECT_API_URL.value()  # not a dead platform's
    _check_ports(
        None if api else port, settings.mail_sink_port if settings.uses_mail_sink else None, settings.reports_port
    )
    server = None
    if api:
        ui = PREFECT_UI_URL.value() or api.removesuffix("/api")
        say(f"Serveur Prefect existant : {api} (PREFECT_API_URL)")
    else:
        api, ui = f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}"
        env.update(
            PREFECT_HOME=env.get("PREFECT_HOME") or str(data_dir / "prefect"),
            PREFECT_API_URL=api,
            PREFECT_UI_URL=ui,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        say(f"Démarrage du serveur Prefect sur {ui} (données : {env['PREFECT_HOME']})…")
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
    seeded = _seed(demo, stop)

    from notifications.sink import MailSink, SinkServer
    from notifications.smtp import smtp_target

    if settings.uses_mail_sink:
        running.append(SinkServer(MailSink(settings.resolved_mail_dir.resolve()), port=settings.mail_sink_port).start())
    mail_line = f"Courriels : {smtp_target(settings).describe()}"
    reports = ReportServer(settings.resolved_reports_dir.resolve(), settings.reports_port).start()
    running.append(reports)
    env.setdefault("TERRITOIRES_REPORTS_URL", reports.url)
    say("Tableau de bord national…")
    dashboard = f"{reports.url}/{_first_dashboard(settings)}"
    _interrupted(stop)

    if server is not None:
        wait_until(
            lambda: answers(f"{api}/health"),
            server,
            stop,
            180,
            "le serveur Prefect",
            _still("le serveur Prefect démarre"),
        )
    env.setdefault("PREFECT_UI_URL", ui)
    record.api_url, record.ui_url = api, ui
    platform_state.save(record, folder)
    env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")  # a resumed step starts within seconds

    say("Démarrage des déploiements (toutes les étapes, le lot mensuel et les relances quotidiennes)…")
    # The sweep of interrupted steps runs below, once the deployments are served and the demo's
    # runs started, not as the serving process starts (see the module).
    served = _started(
        record,
        folder,
        spawn(
            "le service des déploiements",
            [str(BIN / "territoires"), "serve", "--sans-reprise"],
            env,
            logs / "serve.log",
        ),
    )
    running.append(served)
    start = served.log.stat().st_size
    wait_until(
        lambda: SERVING.encode() in served.log.read_bytes()[start:],
        served,
        stop,
        180,
        "le service des déploiements",
        _still("les déploiements démarrent"),
    )
    since = datetime.now(UTC) - timedelta(seconds=1)  # runs created from now on are this start's

    started = {}
    if demo:
        say("Démonstration : lancement des exécutions qui attendent une décision…")
        try:
            started = run_demo(
                "runs",
                env={**env, "PREFECT_API_URL": api, "PREFECT_UI_URL": ui},
                progress=_still("les exécutions se créent"),
            )
        except Exception as exc:  # noqa: BLE001 - the platform runs on; the next start tries again
            _interrupted(stop)
            typer.echo(
                f"Attention : les exécutions de la démonstration n'ont pas toutes pu être lancées "
                f"({type(exc).__name__} : {exc}) ; « territoires up --demo » les relancera.",
                err=True,
            )
    _interrupted(stop)
    _repair_and_publish(api, ui)
    _interrupted(stop)
    say("Envoi des courriels (codes d'approbation des étapes en attente)…")
    settling = _Settling(api, since)
    ready = wait_for(settling, [c for c in running if isinstance(c, Child)], stop, SETTLE_SECONDS)
    if not ready:
        runs, mails, _ = settling.counts()
        typer.echo(
            f"Attention : le démarrage n'a pas fini de s'installer après {SETTLE_SECONDS} s (exécutions pas encore "
            f"en attente d'une décision : {runs} ; courriels à envoyer : {mails}) ; la plateforme continue "
            f"(journaux : {logs}).",
            err=True,
        )
    _banner(ready, ui, mail_line, settings, logs, seeded, started, dashboard)


def _repair_and_publish(api: str, ui: str) -> None:
    """The start-up sweep of interrupted steps (its report mailed to the administrators when it
    repaired something), then the audit trail's head published in Prefect. Their failures are
    said, never fatal: the daily run does both again."""
    import asyncio

    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from models.french import pluriel

    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_UI_URL: ui}):
        say("Contrôle des étapes interrompues…")
        try:
            report = asyncio.run(_sweep())
        except Exception as exc:  # noqa: BLE001 - the platform serves on; the daily run sweeps again
            typer.echo(f"Attention : contrôle des étapes impossible ({type(exc).__name__} : {exc}).", err=True)
        else:
            if report.repairs:
                say(
                    f"  {pluriel(len(report.repairs), 'étape reprise', 'étapes reprises')} "
                    f"(les administrateurs en reçoivent le détail par courriel)."
                )
        say("Publication de la tête de la piste d'audit…")
        try:
            asyncio.run(_publish_head())
        except Exception as exc:  # noqa: BLE001 - « audit verify » says so; the daily run publishes again
            typer.echo(f"Attention : tête de la piste d'audit non publiée ({type(exc).__name__} : {exc}).", err=True)


async def _sweep():
    from services.followup import recovery

    report = await recovery.sweep()
    if report.repairs:
        await _send_due()
    return report


async def _publish_head() -> None:
    import warnings

    from services.db import unit_of_work
    from services.engine import audit

    with unit_of_work() as session:
        head = audit.head_for_publication(session)
    with warnings.catch_warnings():
        # Prefect's notice that an artifact is created outside a run: the head is published by the
        # platform itself here, as ``territoires audit publish`` does.
        warnings.filterwarnings("ignore", "Artifact creation outside", FutureWarning)
        await audit.publish_head(head)


async def _send_due() -> None:
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine

    await OutboxSender(get_engine(), smtp_target()).send_pending()


class _Settling:
    """The wait before « prêt »: the runs created since ``since`` wait on their forms (or ended),
    and nothing is due in the outbox. What is still under way is said when it changes, at most
    every ``PROGRESS_SECONDS``, so that the wait is never silent. A message due while no run is
    under way (its run ended before sending it) is sent from here."""

    def __init__(self, api: str, since: datetime):
        self.api, self.since = api, since
        self.said_at, self.last = time.monotonic(), None

    def __call__(self) -> bool:
        import asyncio

        from models.french import pluriel

        runs, due, sent = self.counts()
        if runs == 0 and due:
            asyncio.run(_send_due())
            runs, due, sent = self.counts()
        if runs == 0 and due == 0:
            return True
        now = time.monotonic()
        if (runs, due, sent) != self.last and now - self.said_at >= PROGRESS_SECONDS:
            say(
                f"  … {pluriel(runs, 'exécution')} en cours de démarrage, {pluriel(sent, 'courriel envoyé')}"
                + (f", {pluriel(due, 'courriel')} à envoyer" if due else "")
            )
            self.last, self.said_at = (runs, due, sent), now
        return False

    def counts(self) -> tuple[int, int, int]:
        """The runs created since ``since`` that are due, starting or running; the outbox's
        messages due or being sent; those sent since ``since``."""
        import httpx
        from sqlalchemy import and_, func, or_
        from sqlmodel import select

        from models.outbox import OutboxMessage, OutboxStatus
        from models.types import utcnow
        from services.db import unit_of_work

        body = {
            "flow_runs": {
                "state": {"type": {"any_": ["SCHEDULED", "PENDING", "RUNNING"]}},
                "expected_start_time": {"after_": self.since.isoformat(), "before_": datetime.now(UTC).isoformat()},
            }
        }
        try:
            response = httpx.post(f"{self.api}/flow_runs/count", json=body, timeout=10)
            runs = int(response.json()) if response.status_code == 200 else 1
        except (httpx.HTTPError, ValueError):
            runs = 1  # not known: not settled
        T = OutboxMessage
        due = or_(
            T.status == OutboxStatus.SENDING, and_(T.status == OutboxStatus.PENDING, T.next_attempt_at <= utcnow())
        )
        with unit_of_work() as session:
            mails = session.exec(select(func.count()).select_from(T).where(due)).one()
            sent = session.exec(
                select(func.count()).select_from(T).where(T.status == OutboxStatus.SENT, T.sent_at >= self.since)
            ).one()
        return runs, mails, sent


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


def _seed(demo: bool, stop: threading.Event) -> dict | None:
    from services.db import unit_of_work
    from services.registry import seed_reference

    with unit_of_work() as session:
        seed_reference(session)
    if not demo:
        return None
    say("Chargement de la démonstration (Poitiers, demandes, lot du ministère)…")
    try:
        seeded = run_demo("seed", progress=_still("la démonstration se charge"))
    except DemoFailed as exc:
        _interrupted(stop)
        raise PlatformError(DemoFailed.code, exc.message) from None
    _interrupted(stop)
    return seeded


def _first_dashboard(settings) -> str:
    """The national dashboard's page, written now so that its address answers from the start
    (the flow ``tableau-de-bord-national`` rewrites it every morning); its file name."""
    from models.types import paris_today
    from services.reporting.report import refresh

    return refresh(paris_today(), settings.resolved_reports_dir)[1].name


def _banner(
    ready: bool, ui: str, mail_line: str, settings, logs: Path, seeded: dict | None, started: dict, dashboard: str
) -> None:
    lines = [
        "",
        "Territoires est prêt." if ready else "Territoires est démarré (voir l'avertissement ci-dessus).",
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
