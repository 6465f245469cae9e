"""``territoires up`` refuses to start on a port already taken, before starting anything, and
says which port and what to do, with a stable code."""

import socket
import threading
from contextlib import contextmanager

from sqlalchemy import inspect

from notifications.sink import _free_port
from services.db import get_engine
from settings import get_settings
from tests.cli import run


@contextmanager
def taken_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def up_refused(*args) -> str:
    before = threading.active_count()
    result = run("up", *args)
    assert result.exit_code == 1 and "[PORT_OCCUPE]" in result.output
    assert "Démarrage du serveur Prefect" not in result.output and "Territoires est prêt" not in result.output
    assert threading.active_count() == before  # no mail sink thread left behind
    return result.output


def test_up_on_a_taken_prefect_port_says_which_port_and_starts_nothing(app_env, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with taken_port() as port:
        assert f"le port {port} de 127.0.0.1 est déjà pris" in up_refused("--port", str(port))
    assert "ctai" in inspect(get_engine(app_env)).get_table_names()  # the database was migrated first


def test_up_on_a_taken_mail_sink_port_says_how_to_change_it_and_starts_nothing(app_env, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("TERRITOIRES_SMTP_HOST", raising=False)
    with taken_port() as sink:
        monkeypatch.setenv("TERRITOIRES_MAIL_SINK_PORT", str(sink))
        get_settings.cache_clear()
        output = up_refused("--port", str(_free_port("127.0.0.1")))
    assert f"le port {sink} du puits de courriels" in output and "TERRITOIRES_MAIL_SINK_PORT" in output


def test_up_on_a_taken_reports_port_says_how_to_change_it_and_starts_nothing(app_env, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with taken_port() as reports:
        monkeypatch.setenv("TERRITOIRES_REPORTS_PORT", str(reports))
        monkeypatch.setenv("TERRITOIRES_MAIL_SINK_PORT", str(_free_port("127.0.0.1")))
        get_settings.cache_clear()
        output = up_refused("--port", str(_free_port("127.0.0.1")))
    assert f"le port {reports} des rapports" in output and "TERRITOIRES_REPORTS_PORT" in output
