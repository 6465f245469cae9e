"""Chaos on the outbox: ``territoires mail send`` killed with SIGKILL three times in the middle of
500 messages, then run again until the queue is empty. Each message must arrive; a kill may
repeat at most the one message that was on the wire, and the receiver can tell it by its
``Message-ID``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.outbox import OutboxMessage, OutboxStatus
from notifications.outbox import Email, message_key, queue_many
from notifications.sink import SinkServer
from services.db import get_engine, unit_of_work
from services.migrate import upgrade
from tests.chaos.conftest import BreakableSink, _drop_database, _new_database, report
from tests.email_samples import SAMPLES

pytestmark = pytest.mark.chaos
TERRITOIRES = str(Path(sys.executable).with_name("territoires"))
MESSAGES = 500


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request, tmp_path):
    url, dropped = _new_database(request.param, tmp_path)
    upgrade(url)
    sink = BreakableSink(tmp_path / "mail")
    server = SinkServer(sink).start()
    try:
        yield url, sink, server.port
    finally:
        server.stop()
        get_engine(url).dispose()
        if dropped:
            _drop_database(dropped)


def _sender(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TERRITOIRES_DATABASE_URL": url,
        "TERRITOIRES_SMTP_HOST": "127.0.0.1",
        "TERRITOIRES_SMTP_PORT": str(port),
    }
    with log.open("ab") as out:
        return subprocess.Popen([TERRITOIRES, "mail", "send"], env=env, stdout=out, stderr=subprocess.STDOUT)


def _until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.005)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_killing_the_sender_three_times_in_500_messages_loses_none_and_repeats_at_most_one_per_kill(outbox, tmp_path):
    url, sink, port = outbox
    agents = [f"agent{n}@prefecture-86.example" for n in range(MESSAGES)]
    with unit_of_work(get_engine(url)) as s:
        queue_many(
            s,
            [
                Email(
                    "approval_requested",
                    a,
                    SAMPLES["approval_requested"],
                    message_key("ptai", n, "instruction", a, "approval_requested"),
                )
                for n, a in enumerate(agents)
            ],
        )
    log = tmp_path / "mail-send.log"
    kills = 0
    # 1) on the wire: the server holds the reply, the sender dies, then the server accepts it;
    # 2) on the wire again, and the server refuses it; 3) at whatever point 400 had arrived.
    for threshold, held, accepted in ((100, True, True), (250, True, False), (400, False, False)):
        if held:
            sink.accept_held, sink.hold = accepted, (lambda envelope, t=threshold: len(sink.received) >= t)
            sink.holding.clear()
            sink.release.clear()
        sender = _sender(url, port, log)
        if held:
            _until(sink.holding.is_set, 60, f"message n° {threshold} on the wire")
        else:
            _until(lambda t=threshold: len(sink.received) >= t, 60, f"{threshold} messages received")
        sender.send_signal(signal.SIGKILL)
        assert sender.wait(timeout=10) == -signal.SIGKILL
        kills += 1
        sink.release.set()
    final = _sender(url, port, log)
    assert final.wait(timeout=120) == 0, log.read_text(errors="replace")[-3000:]

    with Session(get_engine(url)) as s:
        rows = s.exec(select(OutboxMessage)).all()
    received = sink.message_ids()
    by_row = {int(mid.split("-")[1].split(".")[0]): n for mid, n in received.items()}
    lost = sum(1 for r in rows if by_row.get(r.id, 0) == 0)
    duplicated = sum(n - 1 for n in by_row.values())
    report(
        f"kill -9 de l'envoi des courriels, {kills} fois en {MESSAGES} messages (au plus {kills} doublons admis)",
        lost,
        duplicated,
        database=url.split(":")[0].split("+")[0],
    )
    assert len(rows) == MESSAGES and all(r.status == OutboxStatus.SENT for r in rows)
    assert lost == 0 and duplicated <= kills
    assert max(by_row.values()) <= 2
    assert duplicated >= 1  # the message accepted after its sender died was sent again, and recognisable
