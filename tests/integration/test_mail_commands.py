"""``territoires mail-sink``, ``mail send``, ``mail status`` and ``mail preview``, as an operator runs them."""

import email
import subprocess
import sys
import time
from email import policy
from pathlib import Path

from notifications.outbox import queue_many
from notifications.sink import _free_port
from services.db import unit_of_work
from tests.cli import run, run_json
from tests.integration.test_outbox_delivery import email as outbox_email
from tests.waiting import wait_until

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))


# ``mail preview all`` itself (every event, as sent) is run and read by tests/integration/test_letters.py.


def test_mail_preview_of_an_unknown_event_names_the_known_ones(tmp_path):
    result = run("mail", "preview", "inconnu", "--to-dir", str(tmp_path))
    assert result.exit_code == 2 and "EVENEMENT_INCONNU" in result.stderr and "approval_requested" in result.stderr


def test_the_mail_sink_stores_eml_files_and_prints_one_line_per_message(app_env, engine, tmp_path, monkeypatch):
    port, folder = _free_port("127.0.0.1"), tmp_path / "boite"
    sink = subprocess.Popen(
        [TERRITOIRES, "mail-sink", "--port", str(port), "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_port(port)
        with unit_of_work(engine) as s:
            queue_many(s, [outbox_email(1), outbox_email(2)])
        monkeypatch.setenv("TERRITOIRES_MAIL_SINK_PORT", str(port))
        from settings import get_settings

        get_settings.cache_clear()
        result = run("mail", "send")
        assert "puits local" in result.stdout and "Envoyés : 2" in result.stdout
        _, counts = run_json("mail", "status")
        assert counts == {"sent": 2}
        wait_until(lambda: len(list(folder.glob("*.eml"))) == 2, 10, "the two messages stored by the sink")
    finally:
        sink.terminate()
        out, _ = sink.communicate(timeout=10)
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    assert "agent1@prefecture-86.example | [CTAI-86-2021-0001] Validation et signature\u202f: contrat signé" in out
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"] in {"agent1@prefecture-86.example", "agent2@prefecture-86.example"}


def _wait_for_port(port: int, timeout: float = 15) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")
