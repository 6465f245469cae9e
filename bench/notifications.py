"""Outbox delivery throughput against a bare aiosmtplib loop, both to the same local SMTP sink.

    python bench/notifications.py [--messages 2000] [--database-url URL]

The sink is an aiosmtpd server in its own process that accepts and discards. The floor sends
the same number of pre-rendered messages over one connection with nothing else around it. The
outbox run claims, renders, sends and marks every row. Last line: ``notifications: ratio …``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import aiosmtplib  # noqa: E402

import cli  # noqa: E402,F401  (turns Prefect's usage analytics off before Prefect is imported)
from notifications.outbox import Email, message_key, queue_many  # noqa: E402
from notifications.render import render  # noqa: E402
from notifications.sender import OutboxSender  # noqa: E402
from notifications.smtp import SmtpTarget  # noqa: E402
from services.db import get_engine, unit_of_work  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from tests.email_samples import SAMPLES  # noqa: E402 (sample contexts, outside production code)

TARGET = 1.5
SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""
EVENT = "approval_requested"
SENDER = "Préfecture <ne-pas-repondre@territoires.example>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def floor(port: int, count: int) -> float:
    """A bare aiosmtplib loop: one connection, pre-rendered bytes, no database."""
    payloads = [
        (
            f"agent{n}@prefecture-86.example",
            bytes(render(EVENT, SAMPLES[EVENT], to=f"agent{n}@prefecture-86.example", sender=SENDER)),
        )
        for n in range(count)
    ]
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    start = time.perf_counter()
    await smtp.connect()
    for to, data in payloads:
        await smtp.sendmail("ne-pas-repondre@territoires.example", [to], data)
    await smtp.quit()
    return time.perf_counter() - start


async def outbox(port: int, count: int, url: str) -> float:
    engine = get_engine(url)
    with unit_of_work(engine) as session:
        queue_many(
            session,
            [
                Email(
                    EVENT,
                    f"agent{n}@prefecture-86.example",
                    SAMPLES[EVENT],
                    message_key("ctai", n, "bench", f"agent{n}@prefecture-86.example", EVENT),
                )
                for n in range(count)
            ],
        )
    sender = OutboxSender(engine, SmtpTarget(host="127.0.0.1", port=port, sender=SENDER))
    start = time.perf_counter()
    report = await sender.send_pending()
    elapsed = time.perf_counter() - start
    if report.sent != count:
        raise SystemExit(f"outbox sent {report.sent} of {count}: {report.errors[:3]}")
    return elapsed


def _empty_outbox(url: str) -> None:
    from sqlalchemy import delete

    from models.outbox import OutboxMessage

    with unit_of_work(get_engine(url)) as session:
        session.execute(delete(OutboxMessage))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=3, help="alternate floor and outbox runs, keep medians")
    args = parser.parse_args()

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(floor(port, 50))  # warm-up: imports, template cache
            floors, outboxes = [], []
            for r in range(args.rounds):
                url = args.database_url or f"sqlite:///{tmp}/bench-{r}.db"
                upgrade(url)
                if args.database_url:
                    _empty_outbox(url)
                floors.append(asyncio.run(floor(port, args.messages)))
                outboxes.append(asyncio.run(outbox(port, args.messages, url)))
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)
    n = args.messages
    floor_s, outbox_s = statistics.median(floors), statistics.median(outboxes)
    print(f"database: {url.split(':')[0]}, {args.rounds} rounds of {n} messages (medians)")
    print(f"floor (bare aiosmtplib loop): {floor_s:.2f} s, {n / floor_s:.0f} msg/s")
    print(f"outbox sender:                {outbox_s:.2f} s, {n / outbox_s:.0f} msg/s")
    print(f"notifications: ratio {outbox_s / floor_s:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
