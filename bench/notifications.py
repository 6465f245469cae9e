"""Outbox delivery throughput against two floors, every run to the same local SMTP sink.

    python bench/notifications.py [--messages 100] [--rounds 10]
                                  [--database sqlite|postgresql | --database-url URL]

The sink is an aiosmtpd server in its own process that accepts and discards. Each round runs,
on the same database:
- the bare floor: the same number of pre-rendered messages over one connection, nothing else;
- the durable floor: the same loop plus, after each message, one committed
  ``UPDATE outbox_message SET status = 'sent' WHERE id = …`` in raw SQL through the same engine
  (the physical cost of the durable mark the sender owes every message);
- the outbox run: claims, renders, sends and marks every row.
``--database postgresql`` creates a throw-away database on the test server and drops it at the
end; ``--database-url`` uses an existing database (its outbox is emptied). The three runs
alternate in short rounds (``--messages`` each, a fresh SMTP connection each) and each side's
times are summed over the rounds: a machine whose load changes weighs on the three alike. Both
ratios are printed; the last line is the one against the durable floor: ``notifications: ratio …``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import aiosmtplib  # noqa: E402 - imported once the repository root is on sys.path
from _harness import fresh_database  # noqa: E402 - imported once the repository root is on sys.path
from sqlalchemy import delete, text  # noqa: E402 - imported once the repository root is on sys.path

import cli  # noqa: E402,F401 - turns Prefect's usage analytics off before Prefect is imported
from models.outbox import OutboxMessage  # noqa: E402 - imported once the repository root is on sys.path
from notifications.outbox import Email, message_key, queue_many  # noqa: E402 - imported once the repository root is on sys.path
from notifications.render import render  # noqa: E402 - imported once the repository root is on sys.path
from notifications.sender import OutboxSender  # noqa: E402 - imported once the repository root is on sys.path
from notifications.smtp import SmtpTarget  # noqa: E402 - imported once the repository root is on sys.path
from services.db import get_engine, unit_of_work  # noqa: E402 - imported once the repository root is on sys.path
from services.migrate import upgrade  # noqa: E402 - imported once the repository root is on sys.path
from tests.email_samples import SAMPLES  # noqa: E402 - sample contexts, outside production code

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


async def floor(port: int, count: int, url: str | None = None) -> tuple[float, float]:
    """A bare aiosmtplib loop: one connection, pre-rendered bytes. With ``url``, the durable
    floor: after each message, one committed UPDATE of its outbox row, in raw SQL."""
    payloads = [
        (
            f"agent{n}@prefecture-86.example",
            bytes(render(EVENT, SAMPLES[EVENT], to=f"agent{n}@prefecture-86.example", sender=SENDER)),
        )
        for n in range(count)
    ]
    conn = None
    if url is not None:
        ids = _queue(url, count)
        conn = get_engine(url).connect()
        mark = text("UPDATE outbox_message SET status = 'sent' WHERE id = :id")
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        await smtp.connect()
        for n, (to, data) in enumerate(payloads):
            await smtp.sendmail("ne-pas-repondre@territoires.example", [to], data)
            if conn is not None:
                with conn.begin():
                    conn.execute(mark, {"id": ids[n]})
        await smtp.quit()
        elapsed = time.perf_counter() - start, time.process_time() - cpu
    finally:
        if conn is not None:
            conn.close()
    if url is not None:
        _empty_outbox(url)
    return elapsed


def _queue(url: str, count: int) -> list[int]:
    """``count`` pending messages, as a decision queues them; returns their ids in order."""
    with unit_of_work(get_engine(url)) as session:
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
    with get_engine(url).connect() as conn:
        return list(conn.execute(text("SELECT id FROM outbox_message ORDER BY id")).scalars())


async def outbox(port: int, count: int, url: str) -> tuple[float, float]:
    engine = get_engine(url)
    _queue(url, count)
    sender = OutboxSender(engine, SmtpTarget(host="127.0.0.1", port=port, sender=SENDER))
    start, cpu = time.perf_counter(), time.process_time()
    report = await sender.send_pending()
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    if report.sent != count:
        raise SystemExit(f"outbox sent {report.sent} of {count}: {report.errors[:3]}")
    _empty_outbox(url)
    return elapsed


def _empty_outbox(url: str) -> None:
    with unit_of_work(get_engine(url)) as session:
        session.execute(delete(OutboxMessage))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100, help="per round and side")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    where.add_argument("--database-url", default=None, help="an existing database (its outbox is emptied)")
    parser.add_argument("--rounds", type=int, default=10, help="the floors and the outbox run alternate, summed")
    args = parser.parse_args()

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as tmp:
            url, drop = (
                (args.database_url, lambda: None) if args.database_url else fresh_database(args.database, Path(tmp))
            )
            try:
                upgrade(url)
                _empty_outbox(url)
                asyncio.run(floor(port, 50, url))  # warm-up: imports, template cache, connections
                asyncio.run(outbox(port, 50, url))
                floors, durables, outboxes = [], [], []
                for _ in range(args.rounds):
                    floors.append(asyncio.run(floor(port, args.messages)))
                    durables.append(asyncio.run(floor(port, args.messages, url)))
                    outboxes.append(asyncio.run(outbox(port, args.messages, url)))
            finally:
                drop()
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)
    n = args.messages * args.rounds
    floor_s, durable_s, outbox_s = (sum(wall for wall, _ in t) for t in (floors, durables, outboxes))
    floor_cpu, durable_cpu, outbox_cpu = (sum(cpu for _, cpu in t) / n * 1000 for t in (floors, durables, outboxes))
    print(f"database: {url.split(':')[0]}, {args.rounds} alternated rounds of {args.messages} messages (totals)")
    print(f"floor (bare aiosmtplib loop):           {floor_s:.2f} s, {n / floor_s:.0f} msg/s")
    print(f"durable floor (+ one committed UPDATE): {durable_s:.2f} s, {n / durable_s:.0f} msg/s")
    print(f"outbox sender:                          {outbox_s:.2f} s, {n / outbox_s:.0f} msg/s")
    print(
        f"CPU per message in this process (the sink's apart): floor {floor_cpu:.2f} ms, "
        f"durable floor {durable_cpu:.2f} ms, outbox sender {outbox_cpu:.2f} ms"
    )
    print(f"ratio against the bare loop: {outbox_s / floor_s:.2f}")
    print(f"notifications: ratio {outbox_s / durable_s:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
