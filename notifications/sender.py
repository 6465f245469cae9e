"""Delivering the outbox through aiosmtplib, exactly once per row as far as SMTP allows.

- Rows are claimed with a conditional UPDATE (``status = 'pending'`` → ``'sending'``, with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two senders never send the same row.
- Each SMTP connection is reused for batch after batch; two run side by side by default.
- Temporary failures (connection refused, time-out, 4xx) put the row back with exponential
  backoff; it is never dropped. Permanent failures (5xx, invalid address) are marked on the
  row with the error, and the sender moves on.
- Results are written in groups by a background writer while the next messages are on the wire.

The one window left: if the process dies after the SMTP server accepted a message and before
its group of rows is marked sent, those rows' claim expires (``lease``) and they are sent again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache

import aiosmtplib
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, select, text, update

from models.outbox import OutboxMessage, OutboxStatus
from models.types import utcnow
from notifications.events import SCRUBBED, SENSITIVE_FIELDS
from notifications.mime import encode_address
from notifications.render import render_bytes
from notifications.smtp import SmtpTarget

log = logging.getLogger(__name__)
T = OutboxMessage


class TemporaryFailure(Exception):
    """The server or the network may accept later: the message waits."""


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed, "deferred": self.deferred,
                "errors": self.errors[:20]}


@dataclass(frozen=True)
class _Claimed:
    id: int
    event: str
    recipient: str
    context: dict
    attempts: int
    key: str


class OutboxSender:
    def __init__(self, engine: Engine, target: SmtpTarget, *, worker_id: str | None = None, batch_size: int = 200,
                 lease: timedelta = timedelta(minutes=10), connect_attempts: int = 3,
                 connect_backoff_seconds: float = 0.2, retry_base: timedelta = timedelta(seconds=30),
                 retry_max: timedelta = timedelta(hours=1), connections: int = 2):
        self.engine, self.target = engine, target
        self.worker_id = worker_id or f"{socket.gethostname()}:{id(self):x}"
        self.batch_size, self.lease = batch_size, lease
        self.connect_attempts, self.connect_backoff_seconds = connect_attempts, connect_backoff_seconds
        self.retry_base, self.retry_max = retry_base, retry_max
        self.connections = max(1, connections)
        self.envelope_from = parseaddr(target.sender)[1]
        self.header_from = encode_address(target.sender)
        self.message_id_domain = target.message_id_domain

    # --- the run -------------------------------------------------------------------------------

    async def send_pending(self, *, now: datetime | None = None, limit: int | None = None) -> SendReport:
        """Sends every due message (up to ``limit``); never raises for SMTP trouble."""
        report = SendReport()
        writer = _ResultWriter(self)
        budget = [limit]
        try:
            await asyncio.gather(*(self._connection_loop(now, budget, writer, report)
                                   for _ in range(self.connections)))
        finally:
            await writer.close()
        return report

    async def _connection_loop(self, now: datetime | None, budget: list[int | None], writer: "_ResultWriter",
                               report: SendReport) -> None:
        """One SMTP connection, reused for batch after batch until nothing is due.

        SMTP is a ping-pong: with one connection the client's work and the server's never
        overlap. A second connection lets one render while the other waits for the server.
        """
        smtp: aiosmtplib.SMTP | None = None
        try:
            while True:
                size = self.batch_size if budget[0] is None else min(self.batch_size, budget[0])
                if size <= 0:
                    return
                batch = await asyncio.to_thread(self._claim, now or utcnow(), size)
                if not batch:
                    return
                if budget[0] is not None:
                    budget[0] -= len(batch)
                report.claimed += len(batch)
                try:
                    if smtp is None:
                        smtp = await self._connect(batch, writer, report)
                    await self._send_batch(smtp, batch, writer, report)
                except TemporaryFailure as exc:
                    if smtp is not None:
                        smtp.close()
                        smtp = None
                    report.errors.append(str(exc))
                    log.warning("envoi suspendu, nouvel essai plus tard : %s", exc)
                    return
        finally:
            if smtp is not None:
                try:
                    await smtp.quit()
                except aiosmtplib.SMTPException:
                    smtp.close()

    async def _send_batch(self, smtp: aiosmtplib.SMTP, batch: list[_Claimed], writer: "_ResultWriter",
                          report: SendReport) -> None:
        """Renders the next message while the previous one is on the wire (one in flight)."""
        in_flight: tuple[int, _Claimed, asyncio.Task] | None = None
        for index, row in enumerate(batch):
            try:
                data = self._message(row)
            except _Permanent as exc:
                writer.failed(row, str(exc), report)
                data = None
            if in_flight is not None:
                await self._settle(*in_flight, batch, writer, report)
                in_flight = None
            if data is not None:
                task = asyncio.create_task(smtp.sendmail(self.envelope_from, [row.recipient], data))
                in_flight = (index, row, task)
        if in_flight is not None:
            await self._settle(*in_flight, batch, writer, report)

    async def _settle(self, index: int, row: _Claimed, task: asyncio.Task, batch: list[_Claimed],
                      writer: "_ResultWriter", report: SendReport) -> None:
        try:
            await task
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self._classify(row, exc.recipients[0].code, exc.recipients[0].message, writer, report)
        except aiosmtplib.SMTPResponseException as exc:
            self._classify(row, exc.code, exc.message, writer, report)
        except (aiosmtplib.SMTPException, OSError) as exc:  # disconnected, time-out, refused
            # The message rendered after this one (if any) was not sent either.
            raise self._defer_rest(batch[index:], exc, writer, report) from exc
        else:
            writer.sent(row, report)

    def _classify(self, row: _Claimed, code: int, text: str, writer: "_ResultWriter", report: SendReport) -> None:
        error = f"{code} {text}".strip()
        if 500 <= code < 600:
            writer.failed(row, f"refus définitif du serveur SMTP : {error}", report)
        else:
            writer.deferred(row, f"refus temporaire du serveur SMTP : {error}", report)

    def _defer_rest(self, rows: list[_Claimed], exc: Exception, writer: "_ResultWriter",
                    report: SendReport) -> TemporaryFailure:
        reason = f"serveur SMTP injoignable ({type(exc).__name__}: {exc})"
        for row in rows:
            writer.deferred(row, reason, report)
        return TemporaryFailure(reason)

    async def _connect(self, batch: list[_Claimed], writer: "_ResultWriter", report: SendReport) -> aiosmtplib.SMTP:
        """Connects with a short exponential backoff; if the server stays down, the batch waits."""
        delay = self.connect_backoff_seconds
        last: Exception | None = None
        for attempt in range(self.connect_attempts):
            smtp = self.target.client()
            try:
                await smtp.connect()
                return smtp
            except (aiosmtplib.SMTPException, OSError) as exc:
                last = exc
                if attempt + 1 < self.connect_attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
        reason = f"connexion SMTP impossible à {self.target.host}:{self.target.port} ({last})"
        for row in batch:
            writer.deferred(row, reason, report)
        raise TemporaryFailure(reason)


    def _message(self, row: _Claimed) -> bytes:
        problem = address_problem(row.recipient)
        if problem:
            raise _Permanent(f"adresse invalide « {row.recipient} » : {problem}")
        try:
            digest = hashlib.sha256(row.key.encode()).hexdigest()[:16]
            return render_bytes(row.event, row.context, to=row.recipient, sender=self.header_from,
                                message_id=f"<outbox-{row.id}.{digest}@{self.message_id_domain}>")
        except Exception as exc:  # a template or context bug must not block the queue
            raise _Permanent(f"rendu impossible : {type(exc).__name__}: {exc}") from None

    # --- database side (run in a worker thread) ---------------------------------------------------

    def _claim(self, now: datetime, size: int) -> list[_Claimed]:
        with self.engine.begin() as conn:
            conn.execute(update(T).where(T.status == OutboxStatus.SENDING, T.claimed_at < now - self.lease)
                            .values(status=OutboxStatus.PENDING, claimed_by=None))
            due = (select(T.id).where(T.status == OutboxStatus.PENDING, T.next_attempt_at <= now)
                   .order_by(T.id).limit(size))
            if self.engine.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            stmt = (update(T).where(T.id.in_(due.scalar_subquery()), T.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENDING, claimed_by=self.worker_id, claimed_at=now)
                    .returning(T.id, T.event, T.recipient, T.context, T.attempts, T.idempotency_key))
            rows = conn.execute(stmt).all()
        return sorted((_Claimed(*r) for r in rows), key=lambda c: c.id)

    def _apply(self, results: list[tuple]) -> None:
        now = utcnow()
        mine = (T.claimed_by == self.worker_id, T.status == OutboxStatus.SENDING)
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # Losing these marks in a database crash only means sending again, as after a
                # sender crash; waiting for the disk on each group would halve the throughput.
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            sent = [r[1] for r in results if r[0] == "sent"]
            if sent:
                conn.execute(update(T).where(T.id.in_(sent), *mine)
                                .values(status=OutboxStatus.SENT, sent_at=now, attempts=T.attempts + 1, last_error=None))
            for kind, row_id, *rest in results:
                if kind == "sent" and rest:  # erase what must not outlive delivery (approval code references)
                    conn.execute(update(T).where(T.id == row_id).values(context=rest[0]))
            for kind, row_id, *rest in results:
                if kind == "failed":
                    error, scrubbed = rest
                    conn.execute(update(T).where(T.id == row_id, *mine).values(
                        status=OutboxStatus.FAILED, attempts=T.attempts + 1, last_error=error[:2000],
                        **({"context": scrubbed} if scrubbed is not None else {})))
                elif kind == "deferred":
                    error, attempts = rest
                    conn.execute(update(T).where(T.id == row_id, *mine).values(
                        status=OutboxStatus.PENDING, claimed_by=None, attempts=attempts + 1,
                        next_attempt_at=now + self.backoff(attempts + 1), last_error=error[:2000]))

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at one hour: temporary failures wait, never expire."""
        return min(self.retry_base * (2 ** max(attempts - 1, 0)), self.retry_max)


class _Permanent(Exception):
    pass


@lru_cache(maxsize=4096)
def address_problem(address: str) -> str | None:
    """Why an address can never be delivered to, or None (syntax only, no DNS)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


class _ResultWriter:
    """Writes results in the background while the next messages are on the wire.

    Results are grouped (``GROUP`` rows, or whatever waited ``MAX_WAIT`` seconds) because one
    transaction per message would cost more than the SMTP exchange itself. A crash loses at
    most one group of "sent" marks; those rows are sent again once their claim expires.
    """

    GROUP = 25
    MAX_WAIT = 1.0

    def __init__(self, sender: OutboxSender):
        self.sender = sender
        self.pending: list[tuple] = []
        self.oldest: float | None = None
        self.task: asyncio.Task | None = None

    @staticmethod
    def _scrubbed(row: _Claimed) -> dict | None:
        """The row's context without what must not outlive delivery, if it holds any."""
        sensitive = SENSITIVE_FIELDS.get(row.event)
        return {**row.context, **{f: SCRUBBED for f in sensitive}} if sensitive else None

    def sent(self, row: _Claimed, report: SendReport) -> None:
        report.sent += 1
        scrubbed = self._scrubbed(row)
        self._add(("sent", row.id, scrubbed) if scrubbed is not None else ("sent", row.id))

    def failed(self, row: _Claimed, error: str, report: SendReport) -> None:
        """Given up for good: the code reference goes too, no email will ever carry it."""
        report.failed += 1
        report.errors.append(f"message {row.id} ({row.recipient}) : {error}")
        log.error("message %s définitivement refusé : %s", row.id, error)
        self._add(("failed", row.id, error, self._scrubbed(row)))

    def deferred(self, row: _Claimed, error: str, report: SendReport) -> None:
        report.deferred += 1
        self._add(("deferred", row.id, error, row.attempts))

    def _add(self, item: tuple) -> None:
        now = time.monotonic()
        self.pending.append(item)
        self.oldest = self.oldest or now
        due = len(self.pending) >= self.GROUP or now - self.oldest >= self.MAX_WAIT
        if due and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self.pending:
            items, self.pending, self.oldest = self.pending, [], None
            await asyncio.to_thread(self.sender._apply, items)

    async def close(self) -> None:
        if self.task is not None:
            await self.task
        await self._drain()
